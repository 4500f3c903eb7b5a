import { constants as fsc, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * The one way reconcile replaces a file: a temp file in the same directory (hidden, so a
 * collector reading *.prom never picks it up), written, owned and moded, fsync'd, renamed over
 * the target, then the directory fsync'd. A reader sees the old bytes or the new ones, never a
 * partial file, and a crash leaves one of the two.
 */
export async function writeFileAtomic(file: string, content: string | Buffer, options: { mode?: number; uid?: number; gid?: number } = {}): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.reconcile-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  try {
    await fh.writeFile(content);
    if (options.uid !== undefined || options.gid !== undefined) await fh.chown(options.uid ?? -1, options.gid ?? -1);
    await fh.chmod(options.mode ?? 0o644);
    await fh.sync();
    await fh.close();
    await fsp.rename(tmp, file);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await syncDir(dir);
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, fsc.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
