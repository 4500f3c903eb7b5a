/**
 * Apply's progress where nobody has a terminal: one stderr line per step start and end as the
 * apply runs, and `--format json` as a stream of events that validates against
 * schemas/apply-events.schema.json and never carries file bytes, step arguments or secrets.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';
import { events } from './helpers/apply-events.js';

let t: ReturnType<typeof tempRoot>;
beforeEach(() => {
  t = tempRoot();
});
afterEach(() => t.cleanup());

describe('apply with stderr not a terminal', () => {
  it('before: nothing until the end; after: a start and an end line per step, in order, with status and duration', async () => {
    const r = await runCli(['apply', t.spec, '--root', t.root, '--yes']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.rawStderr.split('\n').filter(Boolean);
    expect(r.progress).toBe(r.rawStderr);
    const total = Number(/\[1\/(\d+)\]/.exec(r.rawStderr)?.[1]);
    expect(total).toBeGreaterThan(3);
    for (let i = 1; i <= total; i++) {
      const start = lines.findIndex((l) => l.startsWith(`reconcile apply: [${i}/${total}] started: `));
      const end = lines.findIndex((l) => new RegExp(`^reconcile apply: \\[${i}/${total}\\] (done|skipped|already) in \\d+( ms|s): `).test(l));
      expect(start, `step ${i} start`).toBeGreaterThanOrEqual(0);
      expect(end, `step ${i} end`).toBeGreaterThan(start);
      expect(lines[end]!.split(': ').at(-1)).toBe(lines[start]!.split(': ').at(-1));
    }
    expect(r.rawStderr).toContain('started: write /etc/exports');
    expect(lines).toHaveLength(2 * total);
    // The report itself is unchanged on stdout.
    expect(r.stdout).toContain('nfs1: converged');
  });

  it('--quiet prints no progress', async () => {
    const r = await runCli(['apply', t.spec, '--root', t.root, '--yes', '--quiet']);
    expect(r.exitCode).toBe(0);
    expect(r.rawStderr).toBe('');
  });
});

describe('apply --format json', () => {
  it('streams version, change_summary, step_start/step_end per step and apply_done, each valid against the schema', async () => {
    const r = await runCli(['apply', t.spec, '--root', t.root, '--yes', '--format', 'json']);
    expect(r.exitCode).toBe(0);
    const ev = events(r.stdout);
    expect(ev[0]!.type).toBe('version');
    expect(ev.at(-1)!.type).toBe('apply_done');
    expect(ev.at(-1)).toMatchObject({ ok: true, headline: 'nfs1: converged', host: 'nfs1', remaining: [] });
    const summary = ev.find((e) => e.type === 'change_summary')!;
    expect(summary).toMatchObject({ host: 'nfs1', worstRisk: 'restart' });
    expect(summary.addresses).toContain('exports[/data/share]');
    const starts = ev.filter((e) => e.type === 'step_start');
    const ends = ev.filter((e) => e.type === 'step_end');
    expect(starts.length).toBe(ends.length);
    expect(starts.length).toBe(starts[0]!.total);
    expect(new Set(ends.map((e) => e.id))).toEqual(new Set(starts.map((e) => e.id)));
    for (const e of ev) expect(e.formatVersion).toBe(1);
    // Human progress is not mixed into the machine's stream, nor doubled on stderr.
    expect(r.rawStderr).toBe('');

    const again = events((await runCli(['apply', t.spec, '--root', t.root, '--yes', '--format', 'json'])).stdout);
    expect(again.map((e) => e.type)).toEqual(['version', 'change_summary', 'apply_done']);
    expect(again.at(-1)).toMatchObject({ ok: true, headline: 'nfs1: in sync, nothing to do', counts: {} });
  });

  it('carries no file bytes and no secret: a CIFS password written to its credentials file', async () => {
    const spec = path.join(t.dir, 'cifs.yaml');
    writeFileSync(
      spec,
      'host: app1\nmounts:\n  - {path: /mnt/f, source: //192.168.1.107/f, type: cifs, options: [iocharset=utf8], credentials: {username: share, password: {env: CMSG_CIFS_PW}}, state: present}\n',
    );
    const r = await runCli(['apply', spec, '--root', t.root, '--yes', '--format', 'json'], { env: { CMSG_CIFS_PW: 'pw-Zq8-not-in-output' } });
    expect(r.exitCode, r.stderr).toBe(0);
    const ev = events(r.stdout);
    expect(ev.filter((e) => e.type === 'step_end').length).toBeGreaterThan(0);
    expect(readFileSync(path.join(t.root, 'etc/fstab'), 'utf8')).toContain('/mnt/f');
    expect(r.stdout).not.toContain('pw-Zq8-not-in-output');
    expect(r.stdout).not.toContain('iocharset=utf8');
    expect(r.stdout).not.toContain('"args"');
    expect(r.stdout).not.toContain('"content"');
  });

  it('a failing step: step_end failed with its error, apply_done not ok, exit 1', async () => {
    const spec = path.join(t.dir, 'tz.yaml');
    writeFileSync(spec, 'host: nfs1\ntimezone: Asia/Tokyo\n');
    // A directory where the /etc/localtime link goes: the link step fails.
    const { mkdirSync, rmSync } = await import('node:fs');
    rmSync(path.join(t.root, 'etc/localtime'), { force: true });
    mkdirSync(path.join(t.root, 'etc/localtime/x'), { recursive: true });
    const r = await runCli(['apply', spec, '--root', t.root, '--yes', '--format', 'json']);
    expect(r.exitCode).toBe(1);
    const ev = events(r.stdout);
    expect(ev.some((e) => e.type === 'step_end' && e.status === 'failed' && typeof e.error === 'string')).toBe(true);
    expect(ev.at(-1)).toMatchObject({ type: 'apply_done', ok: false });
    expect(String(ev.at(-1)!.headline)).toMatch(/^nfs1: not converged: /);
  });

  it('an invalid spec: diagnostic events at FILE:LINE:COL, then apply_done, and nothing else on stdout', async () => {
    const spec = path.join(t.dir, 'bad.yaml');
    writeFileSync(spec, 'host: nfs1\ntimezone: 7\n');
    const r = await runCli(['apply', spec, '--root', t.root, '--yes', '--format', 'json']);
    expect(r.exitCode).toBe(1);
    const ev = events(r.stdout);
    expect(ev.map((e) => e.type)).toEqual(['version', 'diagnostic', 'apply_done']);
    expect(ev[1]).toMatchObject({ severity: 'error', file: spec, line: 2 });
    expect(ev[2]).toMatchObject({ ok: false, host: null });
    expect(r.stderr).toContain(`${spec}:2:`);
  });
});
