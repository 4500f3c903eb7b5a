import type { ResourceKind } from '../types.js';
import { diffUnits } from './diff.js';
import { observeUnits, type UnitsObserved } from './observe.js';
import { unitsOps } from './steps.js';


export const unitsKind: ResourceKind<UnitsObserved> = {
  name: 'units',
  observe: observeUnits,
  diff: diffUnits,
  ops: unitsOps,
};
