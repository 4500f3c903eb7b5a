import { readFileSync, statSync } from 'node:fs';
import { sha256 } from '../hash.js';
import { createRequire } from 'node:module';
import type { Document, LineCounter, Node, Pair } from 'yaml';
import { UserError, type Diagnostic } from '../errors.js';
import type { HostSpec } from './types.js';
import type { SecretRefAt } from './secrets.js';
import { describeValueError, describeYamlError } from './yaml-messages.js';

// `yaml` is loaded only when a spec has to be parsed (not on a cache hit: see cache.ts); its cold
// start is most of the cost of a converged plan.
const require = createRequire(import.meta.url);
let yamlModule: typeof import('yaml') | undefined;
const yaml = () => (yamlModule ??= require('yaml') as typeof import('yaml'));

/**
 * A spec and its YAML tree, so every check can point at FILE:LINE:COL. A spec whose checked value
 * came from the cache parses its tree only when a position is asked for.
 */
export class LoadedSpec {
  private parsed: { doc: Document.Parsed; lineCounter: LineCounter } | undefined;
  readonly sha256: string;
  /**
   * Where a value was written when that is not this text: a spec merged from fragments (src/fleet)
   * says each value's own FILE:LINE:COL, so every diagnostic on it points at the file holding it.
   */
  locate?: (path: PathSegment[], options: { key?: boolean }) => { file: string; line: number; col: number } | undefined;
  /** The value's secret references, when known without walking it (a spec from the cache). */
  secretRefs?: SecretRefAt[];

  constructor(
    readonly path: string,
    readonly text: string,
    public value: HostSpec,
    parsed?: { doc: Document.Parsed; lineCounter: LineCounter },
  ) {
    this.sha256 = sha256(text);
    this.parsed = parsed;
  }

  get doc(): Document.Parsed {
    return this.tree().doc;
  }

  get lineCounter(): LineCounter {
    return this.tree().lineCounter;
  }

  private tree() {
    return (this.parsed ??= parseTree(this.text));
  }
}

function parseTree(text: string) {
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: false });
  return { doc, lineCounter };
}

export type PathSegment = string | number;

/** A host spec is a few kilobytes; anything near this is not one (and would only cost memory). */
export const MAX_SPEC_BYTES = 4 << 20;

export function readSpecFile(path: string): string {
  try {
    // A FIFO or a device would block or never end: only a regular file of sane size is read.
    const st = statSync(path);
    if (!st.isFile()) throw new UserError(`${path}: not a regular file; a spec is a YAML file`);
    if (st.size > MAX_SPEC_BYTES) throw new UserError(`${path}: ${st.size} bytes is too large for a host spec (at most ${MAX_SPEC_BYTES})`);
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: cannot read spec (${code === 'ENOENT' ? 'no such file' : code ?? String(e)})`);
  }
}

/** Parses YAML; syntax errors come back as diagnostics, never thrown. */
export function parseSpec(text: string, path: string): { spec: LoadedSpec; diagnostics: Diagnostic[] } {
  const tree = parseTree(text);
  const { doc, lineCounter } = tree;
  const diagnostics: Diagnostic[] = [];
  // A parser whose stack ran out reports every token after that point as unexpected: only the first says why.
  const overflow = doc.errors.find((e) => /Maximum call stack size exceeded/.test(e.message));
  const src = { text, lineCounter, doc, yaml: yaml() };
  for (const err of overflow ? [overflow] : [...doc.errors, ...doc.warnings]) {
    const described = err === overflow ? { ...lineCounter.linePos(err.pos[0]), message: 'YAML: nested too deep to read' } : describeYamlError(err, src);
    // The library often reports one fault twice at one place (a key that is not a key): say it once.
    if (diagnostics.some((d) => d.line === described.line && d.col === described.col)) continue;
    diagnostics.push({ file: path, ...described, severity: doc.errors.includes(err as never) ? 'error' : 'warning' });
  }
  let value = {} as HostSpec;
  if (!diagnostics.some((d) => d.severity === 'error')) {
    try {
      value = doc.toJS({ maxAliasCount: 100 }) as HostSpec;
    } catch (e) {
      // An alias without its anchor, or an alias bomb (a billion laughs) refused by yaml's alias budget: say where.
      diagnostics.push({ file: path, ...describeValueError(e, src), severity: 'error' });
    }
  }
  const spec = new LoadedSpec(path, text, value, tree);
  const shape = badShape(value);
  if (shape) {
    // Every later check walks the value recursively: a cycle or a tower of nesting must stop here.
    diagnostics.push({ file: path, ...positionOf(spec, shape.path), message: `YAML: ${shape.message}`, severity: 'error' });
    spec.value = {} as HostSpec;
  }
  return { spec, diagnostics };
}

/** A spec is a few levels deep; this is far past any real one. */
export const MAX_SPEC_DEPTH = 32;

/** An alias that makes the value contain itself, or nesting deeper than MAX_SPEC_DEPTH: where, and what. */
function badShape(value: unknown): { path: PathSegment[]; message: string } | undefined {
  const ancestors = new Set<object>();
  const walk = (v: unknown, at: PathSegment[]): { path: PathSegment[]; message: string } | undefined => {
    if (typeof v !== 'object' || v === null) return undefined;
    if (ancestors.has(v)) return { path: at, message: 'an alias here refers to a node that contains it (a cycle)' };
    if (at.length > MAX_SPEC_DEPTH) return { path: at, message: `nested more than ${MAX_SPEC_DEPTH} levels deep` };
    ancestors.add(v);
    try {
      for (const [k, child] of Array.isArray(v) ? v.entries() : Object.entries(v)) {
        const found = walk(child, [...at, k]);
        if (found) return found;
      }
    } finally {
      ancestors.delete(v);
    }
    return undefined;
  };
  return walk(value, []);
}


/**
 * The source position of the node at `path` (JSON pointer segments). With `key: true` the
 * position of the map key, which is where an unknown-key error belongs.
 */
export function positionOf(spec: LoadedSpec, path: PathSegment[], options: { key?: boolean } = {}): { line: number; col: number } {
  const { isMap, isSeq, isScalar } = yaml();
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
  return typeof x === 'object' && x !== null && 'range' in x && !yaml().isPair(x);
}

export function diagnosticAt(
  spec: LoadedSpec,
  path: PathSegment[],
  message: string,
  severity: Diagnostic['severity'] = 'error',
  options: { key?: boolean } = {},
): Diagnostic {
  const located = spec.locate?.(path, options);
  if (located) return { ...located, message, severity };
  const { line, col } = positionOf(spec, path, options);
  return { file: spec.path, line, col, message, severity };
}
