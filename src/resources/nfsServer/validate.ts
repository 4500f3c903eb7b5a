import type { Diagnostic } from '../../errors.js';

/** `nfsServer:` holds only a port, which the schema bounds: nothing more to know from the spec. */
export function validate(): Diagnostic[] {
  return [];
}
