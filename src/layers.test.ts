/**
 * The imports read as layers: no circle between the top-level folders of src/, and a kind
 * (src/resources/<kind>/) imports only what a kind may know: the plan, the host, the spec, the kind
 * contract and leaf modules. Read from the source text, so a new import cannot slip past.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

const SRC = path.resolve(import.meta.dirname);

/** Modules any layer may import: they import nothing of ours but other leaves (and the host layer below every other). */
const LEAF_MODULES = ['hash.ts', 'errors.ts', 'version.ts', 'package-root.ts', 'duration.ts', 'distance.ts', 'diagnostics/hang.ts', 'resources/chars.ts'];
/** What a kind may import beyond its own folder and the leaves. */
const KIND_MAY_IMPORT = ['plan/', 'host/', 'spec/', 'resources/types.ts'];
/** Another kind's step ids, to order against (`exportfs -ra` after a write, a directory after mounts). */
const isKindIds = (p: string) => /^resources\/[^/]+\/ids\.ts$/.test(p);

type Edge = { from: string; to: string };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Every relative import of every source file (static, dynamic, type-only, re-exports), as paths under src/. */
export function importEdges(files: { path: string; text: string }[]): Edge[] {
  const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/gm;
  return files.flatMap((f) =>
    [...f.text.matchAll(specifier)].map((m) => ({
      from: f.path,
      to: path.posix.normalize(path.posix.join(path.posix.dirname(f.path), m[1]!)).replace(/\.js$/, '.ts'),
    })),
  );
}

/** The top-level folder (or top-level file) a path under src/ belongs to. */
const topOf = (p: string) => p.split('/')[0]!.replace(/\.ts$/, '');
const kindOf = (p: string) => (/^resources\/[^/]+\//.test(p) ? p.split('/')[1]! : null);

/** Pairs of top-level folders that reach each other, each with one import that starts the way back. */
export function folderCycles(edges: Edge[]): string[] {
  const graph = new Map<string, Map<string, Edge>>();
  for (const e of edges) {
    const [a, b] = [topOf(e.from), topOf(e.to)];
    if (a === b) continue;
    if (!graph.has(a)) graph.set(a, new Map());
    if (!graph.get(a)!.has(b)) graph.get(a)!.set(b, e);
  }
  const reaches = (from: string, to: string) => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length) {
      const x = stack.pop()!;
      if (x === to) return true;
      for (const y of graph.get(x)?.keys() ?? []) if (!seen.has(y)) seen.add(y), stack.push(y);
    }
    return false;
  };
  const out: string[] = [];
  for (const [a, targets] of graph) for (const [b, e] of targets) if (reaches(b, a)) out.push(`${a} -> ${b} (${e.from} imports ${e.to}), and ${b} leads back to ${a}`);
  return out.sort();
}

/** Imports of a kind's folder that reach beyond what a kind may know. */
export function kindViolations(edges: Edge[]): string[] {
  return edges
    .filter((e) => {
      const kind = kindOf(e.from);
      if (kind === null) return false;
      if (e.to.startsWith(`resources/${kind}/`) || LEAF_MODULES.includes(e.to) || isKindIds(e.to)) return false;
      return !KIND_MAY_IMPORT.some((allowed) => (allowed.endsWith('/') ? e.to.startsWith(allowed) : e.to === allowed));
    })
    .map((e) => `${e.from} imports ${e.to}`)
    .sort();
}

const edges = importEdges(sourceFiles(SRC).map((p) => ({ path: path.relative(SRC, p).split(path.sep).join('/'), text: readFileSync(p, 'utf8') })));

describe('the import graph of src/', () => {
  it('is read at all (guards the reader itself)', () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(edges).toContainEqual({ from: 'cli/plan.ts', to: 'apply/planner.ts' });
  });

  it('has no circle between top-level folders', () => {
    expect(folderCycles(edges)).toEqual([]);
  });

  it('lets a kind import only the plan, the host, the spec, the kind contract and leaf modules', () => {
    expect(kindViolations(edges)).toEqual([]);
  });

  it('leaf modules import no module of ours but other leaves; kinds\' ids modules import nothing', () => {
    expect(edges.filter((e) => LEAF_MODULES.includes(e.from) && !LEAF_MODULES.includes(e.to) && !e.to.startsWith('host/'))).toEqual([]);
    expect(edges.filter((e) => isKindIds(e.from))).toEqual([]);
  });

  it('finds a circle and a kind reaching too far when there is one', () => {
    const bad = importEdges([
      { path: 'apply/apply.ts', text: "import { x } from '../render/json.js';" },
      { path: 'render/json.ts', text: "import type { y } from '../apply/apply.js';" },
      { path: 'resources/mounts/diff.ts', text: "export { sha256 } from '../../apply/ops.js';\nconst u = await import('../units/diff.js');\nimport { h } from '../../hash.js';" },
    ]);
    expect(folderCycles(bad)).toHaveLength(2);
    expect(kindViolations(bad)).toEqual(['resources/mounts/diff.ts imports apply/ops.ts', 'resources/mounts/diff.ts imports resources/units/diff.ts']);
  });
});
