import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * SCRAM-SHA-256 verifiers as PostgreSQL stores them in pg_authid.rolpassword:
 *   SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>   (base64 parts, RFC 5802/7677)
 * Recomputing the keys from a candidate password with the stored salt and iteration count tells
 * whether the password changed without ever reading or printing the password itself.
 */
export interface ScramVerifier {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

const PATTERN = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

export function parseVerifier(text: string | null | undefined): ScramVerifier | null {
  const m = text ? PATTERN.exec(text) : null;
  if (!m) return null;
  return { iterations: Number(m[1]), salt: Buffer.from(m[2]!, 'base64'), storedKey: Buffer.from(m[3]!, 'base64'), serverKey: Buffer.from(m[4]!, 'base64') };
}

/**
 * PostgreSQL applies SASLprep to the password and falls back to the raw bytes when that fails;
 * NFKC is the part of SASLprep that changes real passwords (ASCII passes unchanged).
 */
function prep(password: string): string {
  return /^[\x20-\x7e]*$/.test(password) ? password : password.normalize('NFKC');
}

function keys(password: string, salt: Buffer, iterations: number): { storedKey: Buffer; serverKey: Buffer } {
  const salted = pbkdf2Sync(Buffer.from(prep(password), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return {
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: createHmac('sha256', salted).update('Server Key').digest(),
  };
}

/** True when `password` is the one the stored verifier was made from. */
export function verifyPassword(password: string, stored: string | null | undefined): boolean {
  const v = parseVerifier(stored);
  if (!v) return false;
  const k = keys(password, v.salt, v.iterations);
  return k.storedKey.length === v.storedKey.length && timingSafeEqual(k.storedKey, v.storedKey) && timingSafeEqual(k.serverKey, v.serverKey);
}

/**
 * A fresh verifier (random 16-byte salt, PostgreSQL's default 4096 iterations). reconcile sends
 * this to the server instead of the password, so the password never reaches a server log.
 */
export function makeVerifier(password: string, iterations = 4096, salt: Buffer = randomBytes(16)): string {
  const k = keys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${k.storedKey.toString('base64')}:${k.serverKey.toString('base64')}`;
}

/**
 * Whether `password` is the stored one, knowing only the verifier's salt, iteration count and a
 * sha256 of it (what observation reads, so no verifier leaves the server): the verifier is
 * rebuilt with the same salt and iterations, which makes it byte-identical when the password is.
 */
export function matchesStored(password: string, stored: { iterations: number | null; salt: string | null; sha256: string } | null | undefined): boolean {
  if (!stored?.iterations || !stored.salt) return false;
  const rebuilt = makeVerifier(password, stored.iterations, Buffer.from(stored.salt, 'base64'));
  return createHash('sha256').update(rebuilt).digest('hex') === stored.sha256;
}
