import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Host } from './host.js';
import { readOwed, RESTARTS_OWED, updateOwed } from './owed.js';
import { genericOps } from '../apply/ops.js';
import { oweRestart, settleRestart } from '../plan/steps.js';

let root: string;
beforeEach(() => (root = mkdtempSync(path.join(tmpdir(), 'reconcile-owed-'))));
afterEach(() => rmSync(root, { recursive: true, force: true }));

const ledger = () => path.join(root, RESTARTS_OWED);
const run = (step: ReturnType<typeof oweRestart>, host: Host) => genericOps[step.op]!(step, { host, timeoutMs: 1000, secrets: new Map() });

describe('the ledger of restarts owed', () => {
  it('keeps a debt noted before the write until the restart settles it, and only that one', async () => {
    const host = new Host(root);
    await updateOwed(host, { 'other.service': 'reload' });
    // An apply that noted the debt and stopped before the restart leaves it on disk for the next one.
    expect((await run(oweRestart({ unit: 'nfs-kernel-server.service', verb: 'restart' }), host)).status).toBe('done');
    expect(JSON.parse(readFileSync(ledger(), 'utf8'))).toEqual({ formatVersion: 1, owed: { 'nfs-kernel-server.service': 'restart', 'other.service': 'reload' } });
    expect(statSync(ledger()).mode & 0o777).toBe(0o600);
    expect((await run(oweRestart({ unit: 'nfs-kernel-server.service', verb: 'restart' }), host)).status).toBe('already');
    // After the restart ran, nothing is owed to that unit.
    expect((await run(settleRestart({ unit: 'nfs-kernel-server.service' }), host)).status).toBe('done');
    expect(await readOwed(host)).toEqual({ 'other.service': 'reload' });
    expect((await run(settleRestart({ unit: 'nfs-kernel-server.service' }), host)).status).toBe('already');
  });

  it('writes nothing when nothing is owed or settled', async () => {
    const host = new Host(root);
    expect(await updateOwed(host, { 'a.service': null })).toBe(false);
    expect(() => statSync(ledger())).toThrow();
  });

  it('refuses a ledger that is not JSON, naming the file', async () => {
    mkdirSync(path.dirname(ledger()), { recursive: true });
    writeFileSync(ledger(), '{not json');
    await expect(readOwed(new Host(root))).rejects.toThrow(`${ledger()} is not valid JSON`);
  });
});
