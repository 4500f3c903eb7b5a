import type { ResourceKind } from '../types.js';
import { diffExports } from './diff.js';
import { observeExports, type ExportsObserved } from './observe.js';

export const exportsKind: ResourceKind<ExportsObserved> = {
  name: 'exports',
  observe: observeExports,
  diff: diffExports,
};
