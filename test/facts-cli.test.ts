/**
 * Facts: a plan made elsewhere from the host's recorded facts equals the plan made on the host.
 * The root is deleted before planning from the snapshot, so nothing can be read from it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';
import { planSpec } from '../src/apply/planner.js';
import { RecordingHost, ReplayingHost } from '../src/host/facts.js';

let t: ReturnType<typeof tempRoot>;
beforeEach(() => {
  t = tempRoot();
});
afterEach(() => t.cleanup());

const withoutCreatedAt = (json: string) => {
  const { createdAt, ...rest } = JSON.parse(json);
  expect(createdAt).toBeTruthy();
  return rest;
};

describe('reconcile facts', () => {
  it('plan --facts elsewhere equals the plan on the host (JSON, minus createdAt)', async () => {
    const onHost = await runCli(['plan', t.spec, '--root', t.root, '--format', 'json']);
    expect(onHost.exitCode).toBe(2);
    const f = await runCli(['facts', t.spec, '--root', t.root]);
    expect(f.stderr).toBe('');
    expect(f.exitCode).toBe(0);
    const snapshot = JSON.parse(f.stdout);
    expect(snapshot).toMatchObject({ formatVersion: 1, kind: 'reconcile-facts', root: t.root });
    expect(typeof snapshot.hostname).toBe('string');
    expect(Date.parse(snapshot.recordedAt)).not.toBeNaN();
    const file = path.join(t.dir, 'snapshot.json');
    writeFileSync(file, f.stdout);
    rmSync(t.root, { recursive: true, force: true });

    const elsewhere = await runCli(['plan', t.spec, '--facts', file, '--format', 'json']);
    expect(elsewhere.stderr).toBe('');
    expect(elsewhere.exitCode).toBe(2);
    expect(withoutCreatedAt(elsewhere.stdout)).toEqual(withoutCreatedAt(onHost.stdout));
    const text = await runCli(['plan', t.spec, '--facts', file]);
    expect(text.stdout).toContain('4 changes pending');
  });

  it('names the missing call and how to record it when the snapshot was made with another spec', async () => {
    const f = await runCli(['facts', '--root', t.root]);
    expect(f.exitCode).toBe(0);
    const file = path.join(t.dir, 'snapshot.json');
    writeFileSync(file, f.stdout);
    const p = await runCli(['plan', t.spec, '--facts', file]);
    expect(p.exitCode).toBe(1);
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
    expect(p.stderr).toContain('the facts snapshot has no answer for');
    expect(p.stderr).toContain('record facts with this spec: reconcile facts SPEC > snapshot.json');
    const both = await runCli(['plan', t.spec, '--facts', file, '--root', t.root]);
    expect(both.exitCode).toBe(1);
    const junk = path.join(t.dir, 'junk.json');
    writeFileSync(junk, '{"a": 1}');
    expect((await runCli(['plan', t.spec, '--facts', junk])).stderr).toContain('not a facts snapshot');
  });

  it('records and replays at the Host layer, in process, on the live root too', async () => {
    // The live machine (root /): hostname and every read come from the snapshot on replay.
    const spec = path.join(t.dir, 'live.yaml');
    // A mount makes the plan read the live mount table (plan only: nothing is applied to /).
    writeFileSync(spec, `host: ${JSON.stringify((await import('node:os')).hostname())}\nmounts:\n  - {path: /mnt/reconcile-facts-test, source: tmpfs, type: tmpfs, state: present}\n`);
    const recording = new RecordingHost('/');
    const live = await planSpec(spec, { host: recording });
    const snapshot = JSON.parse(JSON.stringify(recording.snapshot([{ path: spec, sha256: live.spec.sha256 }])));
    const replayed = await planSpec(spec, { host: new ReplayingHost({ ...snapshot, hostname: snapshot.hostname }, 'snapshot') });
    expect({ ...replayed.plan, createdAt: '' }).toEqual({ ...live.plan, createdAt: '' });
    expect(Object.keys(snapshot.calls).some((k) => k.startsWith('readLive ["/proc/self/mountinfo"]'))).toBe(true);
    // Another machine name in the snapshot: the spec's host check uses it, not this machine's.
    await expect(planSpec(spec, { host: new ReplayingHost({ ...snapshot, hostname: 'elsewhere' }, 'snapshot') })).rejects.toThrow(/this machine is "elsewhere"/);
    expect(readFileSync(spec, 'utf8')).toContain('host:');
  });
});
