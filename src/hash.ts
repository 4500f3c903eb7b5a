import { createHash } from 'node:crypto';

/** A leaf module: every layer may hash without importing the one that happens to hash most. */
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
