import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_MEANING, schemaNode } from './schema.js';

/** Every pattern of the host schema, by the schema node that holds it (as ajv's schemaPath names it). */
function patternNodes(): { node: string; name: string }[] {
  const schema = JSON.parse(readFileSync(new URL('../../schemas/host-spec.schema.json', import.meta.url), 'utf8')) as object;
  const out: { node: string; name: string }[] = [];
  const walk = (n: unknown, at: string[]) => {
    if (!n || typeof n !== 'object') return;
    const node = n as Record<string, unknown>;
    if (typeof node.pattern === 'string') out.push({ node: schemaNode(`#/${[...at, 'pattern'].join('/')}`), name: at.at(-1) ?? '' });
    for (const [k, v] of Object.entries(node)) walk(v, [...at, k]);
  };
  walk(schema, []);
  return out;
}

describe('schema messages', () => {
  it('every pattern of the host schema has a meaning in words (no regular expression reaches a user)', () => {
    // Definitions and the few property names of src/spec/schema.ts's other tables have theirs there.
    const elsewhere = /^definitions\/(absolutePath|duration|mode)$|^properties\/(apiVersion|host|timezone)$|^properties\/mounts\/items\/properties\/options\/items(\/not)?$|^definitions\/absolutePath\/not$/;
    const missing = patternNodes().filter((p) => !elsewhere.test(p.node) && NODE_MEANING[p.node] === undefined);
    expect(missing).toEqual([]);
  });
});
