import { expect } from 'vitest';
import { schemaProblems } from './schema.js';

/** Every line of `apply --format json` as an event, each checked against schemas/apply-events.schema.json (a failure names the line). */
export function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      expect(schemaProblems('apply-events.schema.json', line), line).toEqual([]);
      return JSON.parse(line) as Record<string, unknown>;
    });
}
