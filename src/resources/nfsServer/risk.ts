import { at, type Assessed, type KindRisk } from '../types.js';
import type { NfsServerSpec } from '../../spec/types.js';
import type { NfsServerObserved } from './diff.js';
import { pinMountdPort, unpinMountdPort } from './defaults.js';

export const entries: KindRisk<NfsServerSpec>['entries'] = (spec) => (spec.nfsServer !== undefined ? [['nfsServer', spec.nfsServer]] : []);

/** What only the host shows: an earlier apply wrote the file and stopped before the restart. */
export interface NfsServerRiskContext {
  restartOwed?: boolean;
  /** The defaults file is rewritten although the port is the same (another spelling of it): a restart too. */
  fileDiffers?: boolean;
}

/** The port RPCMOUNTDOPTS pins in the defaults file (`--port N`, `--port=N`, `-p N`). */
export function observedEntry(observed: NfsServerObserved, _address = 'nfsServer', desired?: NfsServerSpec): { entry: NfsServerSpec | undefined; context: NfsServerRiskContext } {
  const file = observed.file ?? '';
  const line = /^\s*RPCMOUNTDOPTS=(.*)$/m.exec(file)?.[1] ?? '';
  const port = /(?:--port[= ]|-p\s*)(\d+)/.exec(line)?.[1];
  const want = desired?.mountdPort === undefined ? unpinMountdPort(file) : pinMountdPort(file, desired.mountdPort);
  return { entry: port === undefined ? undefined : { mountdPort: Number(port) }, context: { restartOwed: !!observed.restartOwed, fileDiffers: observed.file !== null && want !== file } };
}

export function risk(b: NfsServerSpec | undefined, a: NfsServerSpec | undefined, context: NfsServerRiskContext = {}): Assessed {
  if (b?.mountdPort !== a?.mountdPort) return at('restart', 'mountd port changed: NFS server restarted');
  if (context.fileDiffers) return at('restart', 'RPCMOUNTDOPTS rewritten: NFS server restarted');
  return context.restartOwed ? at('restart', 'NFS server restart owed by an earlier apply') : at('none', 'changed');
}
