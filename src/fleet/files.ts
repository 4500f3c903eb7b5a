import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { Diagnostic } from '../errors.js';
import { diagnosticAt, LoadedSpec, readSpecFile, type PathSegment } from '../spec/load.js';
import { describeValueError, describeYamlError } from '../spec/yaml-messages.js';

const require = createRequire(import.meta.url);
let yamlModule: typeof import('yaml') | undefined;
const yaml = () => (yamlModule ??= require('yaml') as typeof import('yaml'));

/** A YAML file of the fleet (fleet.yaml, an inventory file, a host spec, a fragment), parsed with positions. */
export interface YamlFile {
  abs: string;
  /** As diagnostics name it: relative to the working directory when below it. */
  display: string;
  loaded: LoadedSpec;
  value: Record<string, unknown>;
  diagnostics: Diagnostic[];
}

export function displayPath(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

/**
 * Reads and parses one file; YAML errors, a merge key (`<<`) anywhere, and a document that is not a
 * map come back as diagnostics. A file that cannot be read throws UserError (the caller knows
 * whose include named it and says so).
 */
export function readYamlFile(abs: string, what: string): YamlFile {
  const display = displayPath(abs);
  const text = readSpecFile(display);
  const { spec, diagnostics } = parseFleetYaml(text, display);
  const file: YamlFile = { abs, display, loaded: spec, value: {}, diagnostics };
  if (diagnostics.some((d) => d.severity === 'error')) return file;
  const v = spec.value as unknown;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    file.diagnostics.push(diagnosticAt(spec, [], `${what} is a YAML map`));
    return file;
  }
  file.value = v as Record<string, unknown>;
  return file;
}

/**
 * parseSpec's diagnostics, with two checks of ours in one pass over the tree: a merge key (`<<:
 * *base` would be a second way to share values, invisible to the merge's origins) and duplicate
 * keys. yaml's own duplicate check is quadratic in a map's size: a fleet.yaml of 10,000 hosts would
 * spend seconds in it.
 */
function parseFleetYaml(text: string, display: string): { spec: LoadedSpec; diagnostics: Diagnostic[] } {
  const { LineCounter, parseDocument, visit, isScalar } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, merge: false });
  const spec = new LoadedSpec(display, text, {} as never, { doc, lineCounter });
  const at = (offset: number) => lineCounter.linePos(offset);
  const src = { text, lineCounter, doc, yaml: yaml() };
  const diagnostics: Diagnostic[] = [...doc.errors, ...doc.warnings].map((err) => ({
    file: display,
    ...describeYamlError(err, src),
    severity: doc.errors.includes(err as never) ? 'error' : 'warning',
  }));
  if (diagnostics.some((d) => d.severity === 'error')) return { spec, diagnostics };
  visit(doc, {
    Map(_, map) {
      const seen = new Map<string, number>();
      for (const pair of map.items) {
        if (!isScalar(pair.key) || !pair.key.range) continue;
        const key = String(pair.key.value);
        if (key === '<<') diagnostics.push({ file: display, ...at(pair.key.range[0]), message: 'merge keys are not supported; use include', severity: 'error' });
        else if (seen.has(key)) {
          const [first, here] = [at(seen.get(key)!), at(pair.key.range[0])];
          diagnostics.push({ file: display, ...here, message: `YAML: key "${key}" appears twice in the same map (line ${first.line} and line ${here.line}); a map holds each key once: remove one or rename it`, severity: 'error' });
        }
        if (!seen.has(key)) seen.set(key, pair.key.range[0]);
      }
    },
  });
  if (diagnostics.some((d) => d.severity === 'error')) return { spec, diagnostics };
  try {
    spec.value = doc.toJS({ maxAliasCount: 100 }) as never;
  } catch (e) {
    diagnostics.push({ file: display, ...describeValueError(e, src), severity: 'error' });
  }
  return { spec, diagnostics };
}

/** Top-level `x-` keys hold file-local anchors; they are dropped before anything reads the file. */
export function withoutExtensionKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => !k.startsWith('x-')));
}

export function diagnosticIn(file: YamlFile, at: PathSegment[], message: string, options: { key?: boolean; severity?: Diagnostic['severity'] } = {}): Diagnostic {
  return diagnosticAt(file.loaded, at, message, options.severity ?? 'error', { key: options.key });
}

/**
 * The fleet a path belongs to: the nearest directory holding fleet.yaml, looking up from `start`
 * and stopping at the git repository root (the directory holding .git). `repo` is where includes
 * of a spec outside any fleet may reach: the repository root, or the spec's own directory.
 */
export function findFleetRoot(start: string): { fleetRoot?: string; repoRoot: string } {
  let dir = path.resolve(start);
  const first = dir;
  for (;;) {
    if (existsSync(path.join(dir, 'fleet.yaml'))) return { fleetRoot: dir, repoRoot: dir };
    if (existsSync(path.join(dir, '.git'))) return { repoRoot: dir };
    const parent = path.dirname(dir);
    if (parent === dir) return { repoRoot: first };
    dir = parent;
  }
}

/** realpath of an existing path; a symlink out of the repository is judged by where it leads. */
export function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

export function isInside(child: string, root: string): boolean {
  const rel = path.relative(root, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
