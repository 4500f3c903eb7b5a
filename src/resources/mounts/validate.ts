import type { Diagnostic } from '../../errors.js';
import { diagnosticAt, type LoadedSpec } from '../../spec/load.js';
import { normalisePath } from './fstab.js';

/** Filesystem types that read a credentials= file (mount.cifs). */
const TAKES_CREDENTIALS = new Set(['cifs', 'smb3']);

/**
 * `mounts:` from the spec alone: each mount point once (`/mnt/x`, `/mnt/x/` and `/mnt//x` are one),
 * credentials only where mount.cifs reads them. (A password in options is the schema's.)
 */
export function validate(spec: LoadedSpec): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Map<string, number>();
  (spec.value.mounts ?? []).forEach((m, i) => {
    const path = normalisePath(m.path);
    const first = seen.get(path);
    if (first !== undefined) {
      const other = spec.value.mounts![first]!.path;
      const line = diagnosticAt(spec, ['mounts', first, 'path'], '').line;
      out.push(diagnosticAt(spec, ['mounts', i, 'path'], `mounts: ${m.path} is mounted twice (here and at line ${line}${other === m.path ? '' : `, as ${other}`})`));
    } else seen.set(path, i);
    if (m.credentials && !TAKES_CREDENTIALS.has(m.type)) {
      out.push(diagnosticAt(spec, ['mounts', i, 'credentials'], `mounts[${m.path}]: credentials are for cifs mounts, not ${m.type}`));
    }
  });
  return out;
}
