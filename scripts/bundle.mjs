// Bundles the compiled modules (dist/) into dist/bin/, which bin/reconcile runs. Node 20 loads ES
// modules one file at a time, each an asynchronous read and its own compile: a converged plan
// taken from the memo loads some 40 of them, which was a fifth of its time. Everything a converged
// plan loads (the static imports of the CLI entry, of `plan`, and of the memo) is one chunk; what
// apply adds is another; each kind is one chunk, loaded when a spec has it; what other commands
// load stays in chunks of its own, loaded only when they run. dist/ itself stays module by module
// (tests and scripts import it). Dependencies are not bundled.
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'rolldown';

const dist = path.resolve(import.meta.dirname, '..', 'dist');
const STARTUP = ['cli/main.js', 'cli/plan.js', 'apply/memo.js', 'host/trace.js'];

/** The modules of dist reachable from `files` by static imports (what loads before any await). */
function staticClosure(files) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|^import\s*['"](\.[^'"]+)['"]/gm)) visit(path.resolve(path.dirname(file), m[1] ?? m[2]));
  };
  for (const f of files) visit(path.join(dist, f));
  return seen;
}

const startup = staticClosure(STARTUP);
const applying = staticClosure(['cli/apply.js']);
const kindOf = (id) => /\/dist\/resources\/([^/]+)\//.exec(id)?.[1];
const out = path.join(dist, 'bin');
rmSync(out, { recursive: true, force: true });
await build({
  input: { main: path.join(dist, 'cli', 'main.js') },
  platform: 'node',
  external: (id) => !id.startsWith('.') && !path.isAbsolute(id),
  onLog(level, log, handler) {
    // A module both imported and loaded on demand stays where it is: expected here, not a fault.
    if (log.code === 'INEFFECTIVE_DYNAMIC_IMPORT') return;
    handler(level, log);
  },
  output: {
    dir: out,
    format: 'esm',
    // A module goes to the first group that takes it: what startup loads stays there.
    codeSplitting: {
      groups: [
        { name: 'startup', test: (id) => startup.has(id) },
        { name: 'apply', test: (id) => applying.has(id) },
        { name: (id) => `kind-${kindOf(id)}`, debugName: 'kinds', test: (id) => kindOf(id) !== undefined },
      ],
    },
  },
});
