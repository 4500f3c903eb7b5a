import { existsSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { Host } from '../host/host.js';
import { listJournals, planRollback, readJournal, runRollback } from '../apply/rollback.js';
import { acquireHostLock } from '../apply/lock.js';
import { prepareSpec } from '../apply/planner.js';
import type { HostSpec } from '../spec/types.js';
import { renderApplyText, renderPlanText } from '../render/text.js';
import { styleFor } from '../render/style.js';
import { UserError } from '../errors.js';
import { oneOf, parse } from './args.js';
import { commandHelp } from './docs.js';
import { redact } from '../spec/secrets.js';
import { publicPlan } from '../plan/public.js';

export async function rollbackCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('rollback', argv);
  if (values.help) {
    process.stdout.write(commandHelp('rollback'));
    return 0;
  }
  if (positionals.length > 1) throw new UserError(`reconcile rollback: expected at most one JOURNAL, got ${positionals.length} (see reconcile rollback --help)`);
  const format = oneOf('rollback', 'format', values.format, ['text', 'json'] as const, 'text');
  const root = values.root ?? '/';
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UserError(`--root ${root}: not an existing directory`);
  const host = new Host(root);
  const style = styleFor(process.stdout, !!values['no-color']);

  if (values.list) {
    const names = await listJournals(host);
    process.stdout.write(format === 'json' ? `${JSON.stringify({ formatVersion: 1, journals: names })}\n` : names.length ? `${names.join('\n')}\n` : 'no journals\n');
    return 0;
  }

  const journal = await readJournal(host, positionals[0]);
  const preview = await planRollback(host, journal);
  if (values.plan || preview.changes.length === 0) {
    // The plan's public form (schemas/plan.schema.json): step ids, no file contents (the bytes put back may be secret).
    process.stdout.write(format === 'json' ? `${redact(JSON.stringify({ formatVersion: 1, journal: journal.name, plan: publicPlan(preview) }))}\n` : renderPlanText(preview, style));
    return preview.changes.length ? (values.plan ? 2 : 0) : 0;
  }

  const { spec, secrets } = await lockConfig(journal.start, root);
  const lock = await acquireHostLock(spec, host, secrets, { host: hostname(), pid: process.pid, plan: `rollback ${journal.name}`, since: new Date().toISOString() });
  try {
    // Under the lock, from what the files are now: an apply that ran while we waited counts.
    const plan = await planRollback(host, journal);
    if (plan.changes.length && !values.yes) {
      if (!process.stdin.isTTY) throw new UserError('reconcile rollback: stdin is not a terminal; pass --yes to roll back without confirmation (look first with --plan)');
      process.stderr.write(renderPlanText(plan, style));
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(`Roll back ${plan.changes.length} change(s) of ${journal.name}? Type yes: `).finally(() => rl.close());
      if (answer.trim() !== 'yes') throw new UserError('rollback cancelled; nothing was changed');
    }
    const report = await runRollback(host, journal, plan, {
      lockToken: lock.token,
      onStep: ({ index, total, title, result }) => {
        if (values.quiet || format !== 'text') return;
        process.stderr.write(result ? `[${index + 1}/${total}] ${title}: ${result.status} (${result.durationMs} ms)\n` : '');
      },
    });
    process.stdout.write(format === 'json' ? `${JSON.stringify({ formatVersion: 1, journal: journal.name, ok: report.ok, stoppedBecause: report.stoppedBecause, results: report.results.map(({ id, title, status, error }) => ({ id, title, status, error })), rollbackJournal: report.journal })}\n` : `${plan.warnings.map((w) => `${style.yellow(w)}\n`).join('')}${renderApplyText(report, style)}`);
    return report.ok ? 0 : 1;
  } finally {
    await lock.release();
  }
}

/**
 * The lock the apply being undone took: its spec's lock.redis if the spec is still there and
 * loads, so a rollback and an apply of the same host exclude each other; otherwise the local lock.
 */
async function lockConfig(start: Record<string, unknown>, root: string): Promise<{ spec: HostSpec; secrets: ReadonlyMap<string, string> }> {
  const specPath = (start.spec as { path?: unknown } | undefined)?.path;
  const host = typeof start.host === 'string' ? start.host : 'localhost';
  if (typeof specPath === 'string' && existsSync(specPath)) {
    try {
      const prepared = await prepareSpec(specPath, { root });
      return { spec: prepared.spec.value, secrets: prepared.secrets };
    } catch (e) {
      process.stderr.write(`reconcile rollback: warning: the spec ${specPath} does not load (${(e as Error).message.split('\n')[0]}); taking the local lock only\n`);
    }
  }
  return { spec: { host }, secrets: new Map() };
}
