import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Host, FileStat } from '../host/host.js';
import { STATE_DIR } from './state.js';
import { isUtf8 } from 'node:buffer';
import { SyncGroup, syncDir } from '../host/atomic.js';
import { maskOptionPasswords, redact } from '../spec/secrets.js';

export const JOURNAL_DIR = `${STATE_DIR}/journal`;
/** Journals kept: the newest, by name (a time stamp); older ones are removed when an apply starts. */
export const JOURNALS_KEPT = 50;

/**
 * A record of one apply: each step and the previous bytes of every file it replaced, so an apply
 * can be undone (`reconcile rollback`; `files/N` is what `path` held before). Appended and synced as it goes,
 * so a crash leaves a journal that says how far it got.
 */
export class Journal {
  private backups = 0;
  /** Records written by concurrent steps share a datasync; each still returns only once it is on disk. */
  private readonly synced: SyncGroup;
  private constructor(
    readonly dir: string,
    private readonly fh: fsp.FileHandle,
    private readonly host: Host,
  ) {
    this.synced = new SyncGroup(() => fh.datasync());
  }

  static async open(host: Host, meta: Record<string, unknown>): Promise<Journal> {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    // Resolved inside the root (a symlinked /var/lib must not take the journal elsewhere); the
    // journal's own directory is new and ours, so plain fs below it is safe.
    await host.ensureDir('/var/lib');
    const dir = await host.realPath(`${JOURNAL_DIR}/${stamp}-${process.pid}`, { write: true });
    await fsp.mkdir(path.join(dir, 'files'), { recursive: true, mode: 0o700 });
    await pruneJournals(path.dirname(dir), JOURNALS_KEPT);
    const fh = await fsp.open(path.join(dir, 'journal.jsonl'), 'a', 0o600);
    const journal = new Journal(dir, fh, host);
    await journal.record({ event: 'start', ...meta });
    return journal;
  }

  async record(entry: Record<string, unknown>): Promise<void> {
    // Step errors and command output may quote a secret: the journal gets them redacted.
    await this.fh.appendFile(`${redact(JSON.stringify({ at: new Date().toISOString(), ...entry }))}\n`);
    await this.synced.request();
  }

  /** The Host's backup hook: keeps the previous bytes before a file is replaced or removed. */
  readonly backup = async (hostPath: string, previous: Buffer | null, stat: FileStat | null): Promise<void> => {
    let saved: string | undefined;
    let masked = false;
    if (previous !== null) {
      saved = `files/${++this.backups}`;
      const kept = withoutSecrets(previous);
      masked = kept !== previous;
      // On disk, name and bytes, before the record that names it, and so before the file it keeps
      // is replaced: a crash in between must not leave a rollback an empty or missing backup.
      const fh = await fsp.open(path.join(this.dir, saved), 'wx', 0o600);
      try {
        await fh.writeFile(kept);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await syncDir(path.join(this.dir, 'files'));
    }
    // `masked`: the saved bytes had a password (fstab password=, a resolved secret) replaced, so
    // they restore everything but that.
    // A link's target is what `rollback` needs to point it back.
    const target = stat?.type === 'symlink' ? await this.host.readlink(hostPath) : undefined;
    await this.record({ event: 'backup', path: hostPath, saved: saved ?? null, ...(masked ? { masked } : {}), existed: stat !== null, type: stat?.type ?? null, mode: stat?.mode, uid: stat?.uid, gid: stat?.gid, ...(target !== undefined ? { target } : {}) });
  };

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/**
 * A file's previous bytes as the journal may keep them: a journal is a log, and lives as long as
 * its 50 siblings, so a password in a mount option or a resolved secret is masked. Bytes that are
 * not text are kept as they are (redaction would corrupt them; no secret of ours is binary).
 */
function withoutSecrets(previous: Buffer): Buffer {
  if (!isUtf8(previous)) return previous;
  const text = previous.toString('utf8');
  const clean = redact(maskOptionPasswords(text));
  return clean === text ? previous : Buffer.from(clean);
}

/** Removes all but the newest `keep` journals (names sort by time). */
async function pruneJournals(dir: string, keep: number): Promise<void> {
  const names = (await fsp.readdir(dir).catch(() => [] as string[])).filter((n) => /^\d{4}-\d\d-\d\dT/.test(n)).sort();
  for (const name of names.slice(0, Math.max(0, names.length - keep))) {
    await fsp.rm(path.join(dir, name), { recursive: true, force: true });
  }
}
