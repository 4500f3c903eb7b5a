import { isDeepStrictEqual } from 'node:util';
import { at, worst, type Assessed, type KindRisk } from '../types.js';
import type { ExportSpec } from '../../spec/types.js';
import { exportPath } from './ids.js';

export const entries: KindRisk<ExportSpec>['entries'] = (spec) => (spec.exports ?? []).map((e) => [`exports[${exportPath(e.path)}]`, e]);

export function risk(b: ExportSpec | undefined, a: ExportSpec | undefined): Assessed {
  if (!b && a) return a.state === 'absent' ? at('disruptive', 'state absent: clients lose access') : at('reload', 'new export: exportfs -ra');
  if (b && !a) return at('disruptive', 'export leaves the spec: clients lose access');
  if (!b || !a) return at('none');
  if (a.state === 'absent' && b.state !== 'absent') return at('disruptive', 'state absent: clients lose access');
  const found: Assessed[] = [];
  const hosts = (e: ExportSpec) => new Set((e.clients ?? []).map((c) => c.host));
  const gone = [...hosts(b)].filter((h) => !hosts(a).has(h));
  if (gone.length) found.push(at('disruptive', `clients lose access: ${gone.join(', ')}`));
  if (!isDeepStrictEqual(b.clients, a.clients)) found.push(at('reload', 'clients or options changed: exportfs -ra'));
  if (!isDeepStrictEqual(b.directory, a.directory)) found.push(at('none', 'directory owner or mode changed'));
  return found.length ? worst(found) : at('none', 'changed');
}
