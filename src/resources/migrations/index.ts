import type { ResourceKind } from '../types.js';
import { diffMigrations } from './diff.js';
import { observeMigrations } from './observe.js';
import { migrationsOps } from './steps.js';
import type { MigrationsObserved } from './types.js';

export type { MigrationsObserved } from './types.js';
export { MigrationsError } from './diff.js';

/** SQL migrations (dbmate-style files) against a database named by a secret URL; last in every plan. */
export const migrationsKind: ResourceKind<MigrationsObserved> = {
  name: 'migrations',
  observe: observeMigrations,
  diff: diffMigrations,
  ops: migrationsOps,
};
