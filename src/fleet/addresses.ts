/**
 * How each spec key merges (DESIGN §8.2 rule 1): by the planner's own addresses. The one table the
 * merge, `exclude:`, the origins and `reconcile spec` read. When the kinds own their spec keys in
 * src/resources/registry.ts (branch kinds), each row here moves to its kind's entry there and this
 * file keeps only the types and the lookup; nothing else in src/fleet needs to change.
 */
export type MergeRule =
  /** One address; maps inside it merge by key, lists and scalars are replaced. */
  | { kind: 'single' }
  /** A list of entries, each its own address `key[id]`; `sub` names maps inside an entry whose keys are addresses too. */
  | { kind: 'entries'; id: (entry: Record<string, unknown>) => string | undefined; sub?: string[]; relativePaths?: string[]; hbaOrder?: boolean }
  /** A map, each key its own address `key[k]`. */
  | { kind: 'map' }
  /** A list of names, each its own address `key[name]`. */
  | { kind: 'set' }
  /** A map of keys, each merged by its own rule (`postgres.instance`, `postgres.settings[k]`...). */
  | { kind: 'nested'; keys: Record<string, MergeRule> };

const single: MergeRule = { kind: 'single' };
const byField = (field: string) => (e: Record<string, unknown>) => (typeof e[field] === 'string' ? (e[field] as string) : undefined);
const refText = (v: unknown) => (v && typeof v === 'object' && typeof (v as { fleet?: unknown }).fleet === 'string' ? `{fleet: ${(v as { fleet: string }).fleet}}` : v);

/** An hba rule's address: the four fields that make a line of pg_hba.conf the planner's (src/resources/postgres). */
export function hbaRuleId(e: Record<string, unknown>): string | undefined {
  return typeof e.type === 'string' ? [e.type, e.database, e.user, ...(e.type === 'local' ? [] : [refText(e.address) ?? 'all'])].join(' ') : undefined;
}

export const MERGE_RULES: Record<string, MergeRule> = {
  timezone: single,
  nfsServer: single,
  lock: single,
  watchdog: single,
  exports: { kind: 'entries', id: byField('path') },
  mounts: { kind: 'entries', id: byField('path') },
  units: { kind: 'entries', id: byField('name'), sub: ['dropins'] },
  // `dir` is relative to the file that says it; the merged spec is read beside the host file.
  migrations: { kind: 'entries', id: byField('name'), relativePaths: ['dir'] },
  postgres: {
    kind: 'nested',
    keys: {
      instance: single,
      role: single,
      primary: single,
      settings: { kind: 'map' },
      hba: {
        kind: 'entries',
        hbaOrder: true,
        id: hbaRuleId,
      },
      users: { kind: 'entries', id: byField('name') },
      slots: { kind: 'set' },
    },
  },
};

/** Keys of a file that steer the merge and are not part of the spec. */
export const MERGE_KEYS = new Set(['include', 'exclude', 'defaults']);
/** Keys of an entry that steer the merge and are not part of the merged entry. */
export const ENTRY_MERGE_KEYS = new Set(['replace', 'order']);

/** The order of top-level keys in a merged spec: the host schema's. */
export const KEY_ORDER = ['apiVersion', 'host', 'timezone', 'exports', 'nfsServer', 'mounts', 'units', 'postgres', 'migrations', 'lock', 'watchdog', 'ignoreDrift'];
