import type { Plan } from './types.js';

/** Version of the JSON form of `plan --fleet` (src/render/fleet-plan.ts). */
export const FLEET_PLAN_FORMAT_VERSION = 1;

/** `plan --fleet --facts DIR`: the plan of each selected host made from its facts snapshot. */
export interface FleetPlan {
  /** Hosts planned, in fleet order. */
  hosts: FleetHostPlan[];
  /** Selected hosts without a snapshot in DIR: not planned. */
  missing: { host: string; file: string }[];
  /** Hosts whose plan failed (a spec error, a snapshot without an answer the plan needs). */
  errors: { host: string; error: string }[];
  /** When the ages were computed. */
  at: string;
}

export interface FleetHostPlan {
  host: string;
  plan: Plan;
  snapshot: { file: string; recordedAt: string; ageSeconds: number };
}
