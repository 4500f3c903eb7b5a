import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdirSync, mkdtempSync, promises as fsp, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Host } from '../host/host.js';
import { Journal } from './journal.js';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe('journal backups', () => {
  it('a backup\'s bytes are synced to disk before the record that names it is written', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'reconcile-journal-unit-'));
    dirs.push(root);
    mkdirSync(path.join(root, 'etc'));
    const journal = await Journal.open(new Host(root), { spec: 'host.yaml' });
    const order: string[] = [];
    const open = fsp.open.bind(fsp);
    vi.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const fh = await open(...args);
      if (String(args[0]).includes(`${path.sep}files${path.sep}`)) {
        const datasync = fh.datasync.bind(fh);
        fh.datasync = async () => {
          await datasync();
          order.push('backup synced');
        };
      }
      return fh;
    });
    const record = journal.record.bind(journal);
    vi.spyOn(journal, 'record').mockImplementation(async (entry) => {
      order.push(`record ${String(entry.event)}`);
      return record(entry);
    });
    await journal.backup('/etc/exports', Buffer.from('/srv 10.0.0.0/8(ro)\n'), { type: 'file', mode: 0o644, uid: 0, gid: 0, size: 20 });
    await journal.close();
    expect(order).toEqual(['backup synced', 'record backup']);
    expect(readFileSync(path.join(journal.dir, 'files', '1'), 'utf8')).toBe('/srv 10.0.0.0/8(ro)\n');
  });
});
