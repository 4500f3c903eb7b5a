import type { ApplyReport, Plan } from '../plan/types.js';
import { applyReportJson, planJson } from '../plan/public.js';

/** The plan as stable, versioned JSON (the form `--out` saves and `apply PLANFILE` reads). */
export function renderPlanJson(plan: Plan): string {
  return planJson(plan);
}

export function renderApplyJson(report: ApplyReport): string {
  return applyReportJson(report);
}
