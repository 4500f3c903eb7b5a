import { constants as fsc, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { createHmac, randomBytes } from 'node:crypto';
import type { Host } from './host.js';

/**
 * The host-local key of keyed digests. A digest of a secret (a credentials file, a replication
 * password) kept in a plan or a facts snapshot must not be checkable against a word list, so it
 * is HMAC-SHA256 under this key, which never leaves the host (0600, root's, under the root).
 */
export const DIGEST_KEY_FILE = '/var/lib/reconcile/digest.key';
const KEY_BYTES = 32;

/** When the key cannot be stored (a read-only root): digests are then comparable within this run only. */
let ephemeral: Buffer | undefined;

export function hmacHex(key: Buffer, data: string | Buffer): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

/**
 * Reads the key; with `create`, makes it once when missing (temp file linked into place, so two
 * runs agree on one key). Without `create` (a plan) a missing key is one of this run only: the
 * plan writes nothing, and its secret digests compare only within the run.
 */
export async function loadDigestKey(host: Host, create: boolean): Promise<Buffer> {
  try {
    const file = await host.realPath(DIGEST_KEY_FILE, { write: create });
    const have = await fsp.readFile(file).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' || e.code === 'ENOTDIR' ? null : Promise.reject(e)));
    if (have && have.length >= KEY_BYTES) return have;
    if (!create) return (ephemeral ??= randomBytes(KEY_BYTES));
    await host.ensureDir('/var/lib');
    await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fh = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    try {
      await fh.writeFile(randomBytes(KEY_BYTES));
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await fsp.link(tmp, file).catch((e: NodeJS.ErrnoException) => (e.code === 'EEXIST' ? undefined : Promise.reject(e)));
    } finally {
      await fsp.rm(tmp, { force: true });
    }
    return await fsp.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EROFS' && code !== 'EACCES' && code !== 'EPERM') throw e;
    return (ephemeral ??= randomBytes(KEY_BYTES));
  }
}
