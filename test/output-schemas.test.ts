/**
 * Every JSON output of the CLI validates against its schema in schemas/ (issue 15): real output of
 * the built CLI, in the states that shape it differently (changes, in sync, targeted, failed).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';
import { schemaProblems } from './helpers/schema.js';

let t: ReturnType<typeof tempRoot>;
beforeEach(() => {
  t = tempRoot();
});
afterEach(() => t.cleanup());

/** The output, checked to be what the test means (exit code), then against the schema. */
async function valid(schema: string, args: string[], exitCode: number | number[], options: { cwd?: string } = {}) {
  const r = await runCli(args, options);
  expect([exitCode].flat(), r.stderr).toContain(r.exitCode);
  expect(schemaProblems(schema, r.stdout), r.stdout.slice(0, 2000)).toEqual([]);
  return JSON.parse(r.stdout);
}

describe('output schemas', () => {
  it('plan: with changes and a shared file, saved, targeted, in sync, and a failure', async () => {
    const file = path.join(t.dir, 'nfs1.plan');
    const plan = await valid('plan.schema.json', ['plan', t.spec, '--root', t.root, '--format', 'json', '--out', file], 2);
    expect(plan.files).toHaveLength(1);
    expect(schemaProblems('plan.schema.json', readFileSync(file, 'utf8'))).toEqual([]);
    await valid('plan.schema.json', ['show', file, '--format', 'json'], 2);
    const targeted = await valid('plan.schema.json', ['plan', t.spec, '--root', t.root, '--format', 'json', '--target', 'nfsServer'], 2);
    expect(targeted.targets).toEqual(['nfsServer']);
    await runCli(['apply', t.spec, '--root', t.root, '--yes']);
    await valid('plan.schema.json', ['plan', t.spec, '--root', t.root, '--format', 'json'], 0);
    const failed = await valid('plan.schema.json', ['plan', path.join(t.dir, 'missing.yaml'), '--root', t.root, '--format', 'json'], 1);
    expect(failed.ok).toBe(false);
  });

  it('apply: a converging apply, then one in sync (a stream of events, one per line)', async () => {
    for (const steps of [true, false]) {
      const r = await runCli(['apply', t.spec, '--root', t.root, '--yes', '--format', 'json']);
      expect(r.exitCode, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      for (const line of lines) expect(schemaProblems('apply-events.schema.json', line), line).toEqual([]);
      expect(lines.some((l) => l.includes('"type":"step_end"'))).toBe(steps);
      expect(JSON.parse(lines.at(-1)!).type).toBe('apply_done');
    }
  });

  it('drift: drift found, and a check that failed', async () => {
    const report = await valid('drift.schema.json', ['drift', t.spec, '--root', t.root, '--format', 'json'], 2);
    expect(report.drift.length).toBe(4);
    await valid('drift.schema.json', ['drift', path.join(t.dir, 'missing.yaml'), '--root', t.root, '--format', 'json'], 1);
  });

  it('doctor', async () => {
    const report = await valid('doctor.schema.json', ['doctor', '--root', t.root, '--spec', t.spec, '--format', 'json', '--interval', '200ms'], [0, 2]); // 2: findings on this busy machine
    expect(report.disks.length).toBeGreaterThan(0);
  });

  it('facts', async () => {
    const facts = await valid('facts.schema.json', ['facts', t.spec, '--root', t.root], 0);
    expect(Object.keys(facts.calls).length).toBeGreaterThan(3);
  });

  it('review', async () => {
    const dir = path.join(t.dir, 'repo');
    mkdirSync(path.join(dir, 'hosts'), { recursive: true });
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' });
    git('init', '-q');
    writeFileSync(path.join(dir, 'hosts/app1.yaml'), 'host: app1\nunits:\n  - {name: kafka.service, enabled: true, state: running}\n');
    git('add', '.');
    git('commit', '-qm', 'first');
    writeFileSync(path.join(dir, 'hosts/app1.yaml'), 'host: app1\nunits:\n  - {name: kafka.service, enabled: true, state: stopped}\n');
    const review = await valid('review.schema.json', ['review', '--base', 'HEAD', '--format', 'json'], 2, { cwd: dir });
    expect(review.specs[0].changes[0].address).toBe('units[kafka.service]');
  });

  it('rollback: the journals, the plan of a rollback (no file contents), and its run', async () => {
    await runCli(['apply', t.spec, '--root', t.root, '--yes']);
    const list = await valid('rollback.schema.json', ['rollback', '--root', t.root, '--list', '--format', 'json'], 0);
    expect(list.journals).toHaveLength(1);
    const preview = await valid('rollback.schema.json', ['rollback', '--root', t.root, '--plan', '--format', 'json'], 2);
    expect(preview.plan.changes.length).toBeGreaterThan(0);
    const run = await valid('rollback.schema.json', ['rollback', '--root', t.root, '--yes', '--format', 'json'], 0);
    expect(run.ok).toBe(true);
  });

  it('the schemas can fail: a step that carries a file content, an unknown risk, a missing field', async () => {
    const r = await runCli(['plan', t.spec, '--root', t.root, '--format', 'json']);
    const plan = JSON.parse(r.stdout);
    const bad = (edit: (p: any) => void) => {
      const copy = structuredClone(plan);
      edit(copy);
      return schemaProblems('plan.schema.json', JSON.stringify(copy));
    };
    expect(bad((p) => (p.steps[0].args.content = 'password=x'))).not.toEqual([]);
    expect(bad((p) => (p.changes[0].risk = 'catastrophic'))).not.toEqual([]);
    expect(bad((p) => delete p.digests)).not.toEqual([]);
    expect(bad((p) => (p.surprise = 1))).not.toEqual([]);
    expect(schemaProblems('plan.schema.json', 'not json')).toEqual([expect.stringMatching(/^not JSON/)]);
  });
});
