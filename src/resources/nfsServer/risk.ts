import { at, type Assessed, type KindRisk } from '../types.js';
import type { NfsServerSpec } from '../../spec/types.js';

export const entries: KindRisk<NfsServerSpec>['entries'] = (spec) => (spec.nfsServer !== undefined ? [['nfsServer', spec.nfsServer]] : []);

export function risk(b: NfsServerSpec | undefined, a: NfsServerSpec | undefined): Assessed {
  return b?.mountdPort !== a?.mountdPort ? at('restart', 'mountd port changed: NFS server restarted') : at('none', 'changed');
}
