import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../host/atomic.js';
import { planJson, type PublicPlan } from './public.js';
import { PLAN_FORMAT_VERSION, type Plan, type Step } from './types.js';

/** Saves a plan for `apply PLANFILE` (owner-only: it names the host's files and digests). */
export async function savePlan(file: string, plan: Plan): Promise<void> {
  await writeFileAtomic(file, planJson(plan), { mode: 0o600 }).catch((e: NodeJS.ErrnoException) => {
    throw new UserError(`${file}: cannot write the plan (${e.code ?? e.message})`);
  });
}

/** A saved plan is JSON with our formatVersion; anything else is taken as a spec (undefined). */
export function readPlanFile(file: string): Plan | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined; // the spec loader reports a missing file with its own message
  }
  if (!text.trimStart().startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not a valid plan file (${(e as Error).message})`);
  }
  return parsePlan(value, file);
}

/** Whether a file holds a saved plan (of any format version): a plan given where a spec belongs is pointed to `show`. */
export function isPlanFile(file: string): boolean {
  let value: unknown;
  try {
    // Asked of every spec before it is loaded: a spec is not read twice, only its first bytes.
    if (!startsWithBrace(file)) return false;
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
  const p = value as Record<string, unknown> | null;
  return typeof p === 'object' && p !== null && typeof p.formatVersion === 'number' && Array.isArray(p.changes) && typeof p.spec === 'object';
}

/** Whether the file's first byte other than white space is `{`. */
function startsWithBrace(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(4096);
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
      const head = buf.toString('latin1', 0, n).trimStart();
      if (head) return head.startsWith('{');
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Checks the public form and turns it back into a Plan (changes with their steps). */
export function parsePlan(value: unknown, file: string): Plan {
  const notOurs = () => new UserError(`${file}: not a reconcile plan file (save one with: reconcile plan SPEC --out ${file})`);
  const p = value as Partial<PublicPlan> | null;
  const isRecord = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isRecord(p) || typeof p!.formatVersion !== 'number') throw notOurs();
  if (p!.formatVersion !== PLAN_FORMAT_VERSION) throw new UserError(`${file}: plan format version ${p!.formatVersion} is not supported (this reconcile reads ${PLAN_FORMAT_VERSION})`);
  const plan = p as PublicPlan;
  const valid =
    isRecord(plan.spec) && typeof plan.spec.path === 'string' && typeof plan.spec.sha256 === 'string' && typeof plan.root === 'string' && isRecord(plan.digests) &&
    Array.isArray(plan.changes) && plan.changes.every((c) => isRecord(c) && typeof c.address === 'string' && Array.isArray(c.steps) && c.steps.every((id) => typeof id === 'string')) &&
    Array.isArray(plan.steps) && plan.steps.every((s) => isRecord(s) && typeof s.id === 'string' && typeof s.op === 'string' && isRecord(s.args)) &&
    (plan.files === undefined || (Array.isArray(plan.files) && plan.files.every(isFileDiff))) &&
    (plan.targets === undefined || (Array.isArray(plan.targets) && plan.targets.every((t) => typeof t === 'string')));
  if (!valid) throw notOurs();
  const steps = new Map<string, Step>(plan.steps.map((s) => [s.id, s]));
  const changes = plan.changes.map((c) => ({
    ...c,
    steps: c.steps.map((id) => {
      const step = steps.get(id);
      if (!step) throw new UserError(`${file}: not a valid plan file (change ${c.address} names step ${JSON.stringify(id)}, which it does not hold)`);
      return step;
    }),
  }));
  const { steps: _steps, ...rest } = plan;
  return { ...rest, changes };
}

/** A shared file's diff as a plan file holds it: renderers read its lines without further checks. */
function isFileDiff(f: unknown): boolean {
  const lineNumbers = (v: unknown) => Array.isArray(v) && v.every((n) => Number.isInteger(n) && n > 0);
  if (typeof f !== 'object' || f === null) return false;
  const { path, diff, lines } = f as Record<string, unknown>;
  return (
    typeof path === 'string' && typeof diff === 'string' && typeof lines === 'object' && lines !== null && !Array.isArray(lines) &&
    Object.values(lines).every((own) => typeof own === 'object' && own !== null && lineNumbers((own as Record<string, unknown>).removed) && lineNumbers((own as Record<string, unknown>).added))
  );
}
