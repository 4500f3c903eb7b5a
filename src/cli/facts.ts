import { promises as fsp } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { planSpec } from '../apply/planner.js';
import { RecordingHost } from '../host/facts.js';
import { UserError } from '../errors.js';
import { parse } from './args.js';
import { commandHelp } from './docs.js';

export async function factsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('facts', argv);
  if (values.help) {
    process.stdout.write(commandHelp('facts'));
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
