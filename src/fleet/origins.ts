import type { PathSegment } from '../spec/load.js';
import { positionOf } from '../spec/load.js';
import type { YamlFile } from './files.js';

/** A place in a file of the fleet, as FILE:LINE:COL. */
export function formatPosition(said: { file: YamlFile; at: PathSegment[] }, options: { key?: boolean } = {}): string {
  const { line, col } = positionOf(said.file.loaded, said.at, options);
  return `${said.file.display}:${line}:${col}`;
}

export function lineOf(said: { file: YamlFile; at: PathSegment[] }): string {
  const { line } = positionOf(said.file.loaded, said.at);
  return `${said.file.display}:${line}`;
}
