import { at, type Assessed, type KindRisk } from '../types.js';

export const entries: KindRisk<string>['entries'] = (spec) => (spec.timezone !== undefined ? [['timezone', spec.timezone]] : []);

/** A new link and file: running programs keep their zone until they read it again. */
export function risk(b: string | undefined, a: string | undefined): Assessed {
  return at('none', `time zone ${b ?? 'unmanaged'} -> ${a ?? 'unmanaged'}`);
}
