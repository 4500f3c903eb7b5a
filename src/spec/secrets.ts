import { closeSync, constants as fsc, fstatSync, openSync, readSync } from 'node:fs';
import type { Diagnostic } from '../errors.js';
import { diagnosticAt, type LoadedSpec, type PathSegment } from './load.js';
import type { SecretRef } from './types.js';

export const REDACTED = '<redacted>';

/** The key a resolved secret is found under in DiffInput.secrets: `env:NAME` or `file:/path`. */
export function refKey(ref: SecretRef): string {
  return 'env' in ref ? `env:${ref.env}` : `file:${ref.file}`;
}

export function isSecretRef(v: unknown): v is SecretRef {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  // Most nodes of a spec are neither: no key list made for them (a spec has thousands of nodes).
  if (!('env' in v) && !('file' in v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'env' || keys[0] === 'file') && typeof (v as Record<string, unknown>)[keys[0]] === 'string';
}

export interface SecretRefAt {
  ref: SecretRef;
  path: PathSegment[];
}

/** Every secret reference in the spec with where it stands. */
export function findSecretRefs(value: unknown): SecretRefAt[] {
  const found: SecretRefAt[] = [];
  const path: PathSegment[] = []; // one stack, copied only for a hit: specs have thousands of nodes
  const walk = (v: unknown) => {
    if (typeof v !== 'object' || v === null) return;
    if (isSecretRef(v)) {
      found.push({ ref: v, path: [...path] });
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        walk(v[i]);
        path.pop();
      }
    } else {
      for (const k in v) {
        path.push(k);
        walk((v as Record<string, unknown>)[k]);
        path.pop();
      }
    }
  };
  walk(value);
  return found;
}

/**
 * Resolves every reference of the spec. A missing variable or unreadable file is a diagnostic
 * naming the reference, never a crash. Resolved values are registered with the redactor.
 */
export function resolveSecrets(spec: LoadedSpec, env: NodeJS.ProcessEnv = process.env): { secrets: Map<string, string>; diagnostics: Diagnostic[] } {
  const secrets = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  for (const { ref, path } of spec.secretRefs ?? findSecretRefs(spec.value)) {
    const key = refKey(ref);
    if (secrets.has(key)) continue;
    const read = readSecretRef(ref, env);
    if ('error' in read) {
      diagnostics.push(diagnosticAt(spec, path, `secret reference ${'env' in ref ? `{env: ${ref.env}}` : `{file: ${ref.file}}`}: ${read.error}`));
      continue;
    }
    secrets.set(key, read.value);
  }
  return { secrets, diagnostics };
}

/**
 * One reference's value, or why there is none: the one place a reference is read. The value is
 * registered with the redactor, and an env variable named by a reference is kept from children.
 */
export function readSecretRef(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): { value: string } | { error: string } {
  let value: string;
  if ('env' in ref) {
    secretEnvNames.add(ref.env);
    const v = env[ref.env];
    if (v === undefined || v === '') return { error: `environment variable ${ref.env} is not set` };
    value = v;
  } else {
    try {
      value = readSecretFile(ref.file);
    } catch (e) {
      return { error: e instanceof SecretFileError ? e.message : `cannot read it (${(e as NodeJS.ErrnoException).code ?? e})` };
    }
  }
  registerSecret(value);
  return { value };
}

/** A secret file is a password or a key, never more. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

export class SecretFileError extends Error {}

/**
 * The value of a `{file: PATH}` reference: a regular file of at most 64 KiB, its one trailing
 * newline dropped. Opened non-blocking and checked on the descriptor, so a FIFO or /dev/zero is
 * refused at once instead of hanging or filling memory.
 */
export function readSecretFile(file: string): string {
  const fd = openSync(file, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      const what = st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : st.isDirectory() ? 'a directory' : 'not a file';
      throw new SecretFileError(`is ${what}, not a regular file`);
    }
    if (st.size > MAX_SECRET_FILE_BYTES) throw new SecretFileError(`is ${st.size} bytes; a secret file may hold at most ${MAX_SECRET_FILE_BYTES}`);
    const buf = Buffer.alloc(MAX_SECRET_FILE_BYTES + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
    if (n > MAX_SECRET_FILE_BYTES) throw new SecretFileError(`grew past ${MAX_SECRET_FILE_BYTES} bytes while read; a secret file may hold at most that`);
    return buf.subarray(0, n).toString('utf8').replace(/\r?\n$/, '');
  } finally {
    closeSync(fd);
  }
}

const knownSecrets = new Set<string>();
const secretEnvNames = new Set<string>();

/**
 * The environment for a child process: ours without the variables the spec takes secrets from
 * (a `mount` or a postmaster started through runuser must not carry REPL_PASSWORD in its
 * /proc/PID/environ), plus what the caller passes on purpose (PGPASSWORD for one pg_basebackup).
 */
export function childEnv(extra?: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of secretEnvNames) delete env[name];
  return extra ? { ...env, ...extra } : env;
}

/** Every resolved secret is registered so no output, plan, log or diff can carry it. */
export function registerSecret(value: string): void {
  if (value.length < 3) return; // masking 1-2 characters everywhere would garble output, not protect it
  // The forms a value takes on its way out: raw, inside JSON, inside a URL, inside HTML (markdown).
  knownSecrets.add(value);
  knownSecrets.add(JSON.stringify(value).slice(1, -1));
  knownSecrets.add(encodeURIComponent(value));
  knownSecrets.add(value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
}

export function redact(text: string): string {
  let out = text;
  for (const s of knownSecrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** Names that say their value is a secret (environment variables, settings, flags). */
export const SECRET_NAME = /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY)/i;

/**
 * Long options whose argument is a secret. `-p` is not among them: it is a port for psql, ssh,
 * redis-cli and most servers, and only mysql reads it as a password (`-pSECRET`), so flagging it
 * would flag every port; such a password is caught only in its long form.
 */
const SECRET_FLAG = /^--(password|passwd|passphrase|secret|token|api-?key|auth-?token|access-?key|secret-?key)$/i;

/** A value that only refers to a secret: a variable ($PW, ${PW}) or a systemd specifier (%d/pw). */
const isReference = (v: string) => /^["']?[$%]/.test(v) || v === '';

/**
 * What in a command line (an ExecStart=, an archive_command) or a connection string is a
 * plaintext secret: a secret-named assignment (`PGPASSWORD=x`, `password=x`), a secret flag with
 * its value (`--password x`, `--token=x`), a URL with a password. Returns what to name in a message
 * (`PGPASSWORD=`, `--password`, `a URL with a password`), never the value.
 */
export function plaintextSecretsInCommand(text: string): string[] {
  const found: string[] = [];
  const words = text.split(/\s+/).filter(Boolean).map((w) => w.replace(/^["']+|["']+$/g, ''));
  words.forEach((w, i) => {
    const assignment = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/.exec(w);
    if (assignment && !assignment[1]!.startsWith('-') && SECRET_NAME.test(assignment[1]!) && !isReference(assignment[2]!)) found.push(`${assignment[1]}=`);
    const flag = /^(--[A-Za-z-]+)(?:=(.*))?$/.exec(w);
    if (flag && SECRET_FLAG.test(flag[1]!)) {
      const value = flag[2] ?? words[i + 1];
      if (value !== undefined && !isReference(value) && !(flag[2] === undefined && value.startsWith('-'))) found.push(flag[1]!);
    }
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i.test(w)) found.push('a URL with a password');
  });
  return [...new Set(found)];
}

/**
 * A `password=` (or `pass=`) mount option written by hand into fstab is no reference of ours, so
 * `redact` cannot know it: masked wherever fstab text leaves the process (diffs, facts snapshots).
 */
export function maskOptionPasswords(text: string): string {
  return text.replace(/(^|[,\s])(password|pass)=[^,\s]*/g, '$1$2=***');
}
