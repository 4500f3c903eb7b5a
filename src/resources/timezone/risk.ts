import { at, type Assessed, type KindRisk } from '../types.js';
import type { TimezoneObserved } from './index.js';

export const entries: KindRisk<string>['entries'] = (spec) => (spec.timezone !== undefined ? [['timezone', spec.timezone]] : []);

/** The zone /etc/localtime names (a copied file or no link: no zone known). */
export function observedEntry(observed: TimezoneObserved): { entry: string | undefined } {
  const i = observed.link?.indexOf('zoneinfo/') ?? -1;
  return { entry: i === -1 ? undefined : observed.link!.slice(i + 'zoneinfo/'.length) };
}

/** A new link and file: running programs keep their zone until they read it again. */
export function risk(b: string | undefined, a: string | undefined): Assessed {
  return at('none', `time zone ${b ?? 'unmanaged'} -> ${a ?? 'unmanaged'}`);
}
