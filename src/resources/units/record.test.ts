import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Host } from '../../host/host.js';
import { updateOwed } from '../../host/owed.js';
import { readRecord, updateRecords } from './record.js';
import { UNITS_RECORD } from './paths.js';

let root: string;
beforeEach(() => (root = mkdtempSync(path.join(tmpdir(), 'reconcile-record-'))));
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the units record and the ledger of restarts owed', () => {
  it('shows a debt from the ledger and one a previous version left in units.json, until a write settles it', async () => {
    const host = new Host(root);
    mkdirSync(path.join(root, 'var/lib/reconcile'), { recursive: true });
    // As the previous version wrote it: the debt next to the files.
    writeFileSync(
      path.join(root, UNITS_RECORD),
      JSON.stringify({ formatVersion: 1, units: { 'old.service': { files: ['/etc/systemd/system/old.service'], owe: 'restart' }, 'kept.service': { files: ['/etc/systemd/system/kept.service'] } } }),
    );
    await updateOwed(host, { 'new.service': 'reload', 'kept.service': 'restart' });
    expect((await readRecord(host)).units).toEqual({
      'old.service': { files: ['/etc/systemd/system/old.service'], owe: 'restart' },
      'kept.service': { files: ['/etc/systemd/system/kept.service'], owe: 'restart' },
      'new.service': { files: [], owe: 'reload' },
    });
    // Rewriting a unit's entry drops the old-form debt (its caller notes or settles it in the ledger).
    await updateRecords(host, { 'old.service': { files: ['/etc/systemd/system/old.service'] } });
    expect(JSON.parse(readFileSync(path.join(root, UNITS_RECORD), 'utf8')).units['old.service']).toEqual({ files: ['/etc/systemd/system/old.service'] });
    expect((await readRecord(host)).units['old.service']?.owe).toBeUndefined();
  });
});
