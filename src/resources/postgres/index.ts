import type { ResourceKind } from '../types.js';
import { diffPostgres } from './diff.js';
import { observePostgres } from './observe.js';
import { postgresOps } from './steps.js';
import type { PgObserved } from './types.js';

export const postgresKind: ResourceKind<PgObserved | null> = {
  name: 'postgres',
  observe: observePostgres,
  diff: diffPostgres,
  ops: postgresOps,
};
