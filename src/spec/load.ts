import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, isPair, type Document, type Node, type Pair } from 'yaml';
import { UserError, type Diagnostic } from '../errors.js';
import type { HostSpec } from './types.js';

/** A parsed spec that keeps its YAML tree, so every later check can point at FILE:LINE:COL. */
export interface LoadedSpec {
  path: string;
  text: string;
  sha256: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  value: HostSpec;
}

export type PathSegment = string | number;

export function readSpecFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: cannot read spec (${code === 'ENOENT' ? 'no such file' : code ?? String(e)})`);
  }
}

/** Parses YAML; syntax errors come back as diagnostics, never thrown. */
export function parseSpec(text: string, path: string): { spec: LoadedSpec; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: false });
  const diagnostics: Diagnostic[] = [];
  for (const err of [...doc.errors, ...doc.warnings]) {
    const { line, col } = lineCounter.linePos(err.pos[0]);
    diagnostics.push({
      file: path,
      line,
      col,
      message: `YAML ${err.code === 'DUPLICATE_KEY' ? 'duplicate key' : 'syntax error'}: ${firstLine(err.message)}`,
      severity: doc.errors.includes(err as never) ? 'error' : 'warning',
    });
  }
  const value = diagnostics.some((d) => d.severity === 'error') ? ({} as HostSpec) : (doc.toJS({ maxAliasCount: 100 }) as HostSpec);
  const sha256 = createHash('sha256').update(text).digest('hex');
  return { spec: { path, text, sha256, doc, lineCounter, value }, diagnostics };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/**
 * The source position of the node at `path` (JSON pointer segments). With `key: true` the
 * position of the map key, which is where an unknown-key error belongs.
 */
export function positionOf(spec: LoadedSpec, path: PathSegment[], options: { key?: boolean } = {}): { line: number; col: number } {
  let node: unknown = spec.doc.contents;
  let lastPair: Pair | undefined;
  let best: Node | undefined = isNode(node) ? node : undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      lastPair = pair;
      best = (isNode(pair.key) ? pair.key : best) as Node | undefined;
      node = pair.value;
      if (isNode(node)) best = node;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)];
      if (!isNode(item)) break;
      lastPair = undefined;
      node = item;
      best = item;
    } else {
      break;
    }
  }
  if (options.key && lastPair && isNode(lastPair.key)) best = lastPair.key as Node;
  const offset = best?.range?.[0] ?? 0;
  return spec.lineCounter.linePos(offset);
}

function isNode(x: unknown): x is Node {
  return typeof x === 'object' && x !== null && 'range' in x && !isPair(x);
}

export function diagnosticAt(
  spec: LoadedSpec,
  path: PathSegment[],
  message: string,
  severity: Diagnostic['severity'] = 'error',
  options: { key?: boolean } = {},
): Diagnostic {
  const { line, col } = positionOf(spec, path, options);
  return { file: spec.path, line, col, message, severity };
}
