import { promises as fsp } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { planSpec } from '../apply/planner.js';
import { RecordingHost } from '../host/facts.js';
import { UserError } from '../errors.js';
import { parse } from './args.js';

export const FACTS_HELP = `usage: reconcile facts [SPEC...] [--root DIR] > snapshot.json

Observes the host as \`reconcile plan SPEC\` does and prints every answer the host gave (files read,
commands run, the mount table) as JSON, so \`reconcile plan SPEC --facts snapshot.json\` on another
machine (CI) makes the plan this host would. Nothing on the host is changed.
  SPEC...     the specs to observe for (a plan of a spec needing reads not recorded here fails,
              naming them); without one, only what every kind reads for an empty spec
  --root DIR  DIR is the host's /
The snapshot holds the bytes of every file the planner read (credentials files included): keep it
as private as the host's /etc.
exit 0 recorded · 1 error`;

export async function factsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('facts', argv, { root: { type: 'string' } });
  if (values.help) {
    process.stdout.write(`${FACTS_HELP}\n`);
    return 0;
  }
  const host = new RecordingHost(values.root ?? '/');
  const specs: { path: string; sha256: string }[] = [];
  let scratch: string | undefined;
  try {
    let files = positionals;
    if (files.length === 0) {
      // An empty spec still observes what every kind reads regardless (state, fstab, mount table).
      scratch = await fsp.mkdtemp(path.join(tmpdir(), 'reconcile-facts-'));
      const empty = path.join(scratch, 'empty.yaml');
      await fsp.writeFile(empty, `host: ${JSON.stringify(hostname())}\n`);
      files = [empty];
    }
    for (const file of files) {
      const { spec } = await planSpec(file, { host });
      specs.push({ path: scratch ? '(empty spec)' : file, sha256: spec.sha256 });
    }
  } finally {
    if (scratch) await fsp.rm(scratch, { recursive: true, force: true });
  }
  if (!Object.keys(host.calls).length) throw new UserError('reconcile facts: nothing was observed');
  process.stdout.write(`${JSON.stringify(host.snapshot(specs), null, 2)}\n`);
  return 0;
}
