import { hostname } from 'node:os';
import * as path from 'node:path';
import { planSpec, type PlanOptions } from '../apply/planner.js';
import { KIND_NAMES } from '../resources/registry.js';
import { failedReport, reportFromPlan, type DriftReport } from './report.js';

/**
 * One drift check: a plan (read-only, no lock: observing never needs one) turned into a report.
 * It never throws: a check that fails is a report that says so, so a loop can go on.
 */
export async function checkDrift(file: string, options: PlanOptions = {}, now: () => number = Date.now): Promise<DriftReport> {
  const kinds = KIND_NAMES;
  const started = now();
  try {
    const { plan } = await planSpec(file, { memo: 'use', ...options });
    return reportFromPlan(plan, kinds, started, now());
  } catch (e) {
    const message = ((e as Error)?.message ?? String(e)).trim();
    return failedReport(hostname(), path.resolve(options.root ?? '/'), message, kinds, started, now());
  }
}
