import { createRequire } from 'node:module';
import type { Diagnostic } from '../errors.js';
import { LoadedSpec, positionOf, type PathSegment } from '../spec/load.js';
import { checkLoaded, type ValidateOptions } from '../resources/check.js';
import { migrationFileDiagnostics } from '../resources/migrations/validate.js';
import { pathKey, type MergedSpec } from './merge.js';

const require = createRequire(import.meta.url);
const yaml = () => require('yaml') as typeof import('yaml');

/**
 * The merged spec through the existing spec checker (schema, rules, security lint, migration
 * files). The checker sees the merged value as JSON text; each finding is moved back to the file
 * and line that said the value, and names the host whose merge it is.
 */
export function checkMerged(merged: MergedSpec, options: ValidateOptions = {}, what: { migrationFiles?: boolean } = {}): Diagnostic[] {
  const file = merged.hostFile.file.display;
  // JSON is YAML: the checker finds positions in it, which are mapped back by path below.
  const spec = new LoadedSpec(file, JSON.stringify(merged.value, null, 1), merged.value);
  const found = checkLoaded(spec, options);
  // A plan does not need them here: the migrations kind reads and checks its files when it observes.
  if (what.migrationFiles !== false && !found.some((d) => d.severity === 'error') && merged.value.migrations?.length) found.push(...migrationFileDiagnostics(spec));
  return found.map((d) => (d.file === file ? relocate(d, spec, merged) : d));
}

function relocate(d: Diagnostic, spec: LoadedSpec, merged: MergedSpec): Diagnostic {
  const offset = (spec.lineCounter.lineStarts[d.line - 1] ?? 0) + d.col - 1;
  const { path, key } = pathAt(spec, offset);
  const at = originOf(merged, path, { key });
  if (!at) return { ...d, line: 1, col: 1 };
  // "declared twice (here and at line N)": N is a line of the checker's text; say where it was written.
  const message = d.message.replace(/\bat line (\d+)\b/, (whole, n: string) => {
    const start = spec.lineCounter.lineStarts[Number(n) - 1];
    if (start === undefined) return whole;
    const indent = /^\s*/.exec(spec.text.slice(start))![0].length;
    const other = originOf(merged, pathAt(spec, start + indent).path);
    return other ? `at ${other.file}:${other.line}:${other.col}` : whole;
  });
  return { ...d, ...at, message: at.file === merged.hostFile.file.display ? message : `${message} (included by host ${merged.host})` };
}

/** Where the value at `path` of a merged spec was said: the file and position of its nearest origin. */
export function originOf(merged: MergedSpec, path: PathSegment[], options: { key?: boolean } = {}): { file: string; line: number; col: number } | undefined {
  for (let n = path.length; n >= 0; n--) {
    const origin = merged.origins.get(pathKey(path.slice(0, n)));
    if (!origin) continue;
    const { line, col } = positionOf(origin.said.file.loaded, [...origin.said.at, ...path.slice(n)], options);
    return { file: origin.said.file.display, line, col };
  }
  return undefined;
}

/** The path of the deepest node at `offset`, and whether the offset is on a map key. */
function pathAt(spec: LoadedSpec, offset: number): { path: PathSegment[]; key: boolean } {
  const { isMap, isSeq, isScalar } = yaml();
  const path: PathSegment[] = [];
  let node: unknown = spec.doc.contents;
  const within = (n: unknown) => {
    const r = (n as { range?: [number, number, number] } | null)?.range;
    return !!r && offset >= r[0] && offset < r[2];
  };
  for (;;) {
    if (isMap(node)) {
      const pair = node.items.find((p) => within(p.key) || within(p.value));
      if (!pair || !isScalar(pair.key)) break;
      path.push(String(pair.key.value));
      if (within(pair.key)) return { path, key: true };
      node = pair.value;
    } else if (isSeq(node)) {
      const i = node.items.findIndex((x) => within(x));
      if (i < 0) break;
      path.push(i);
      node = node.items[i];
    } else break;
  }
  return { path, key: false };
}
