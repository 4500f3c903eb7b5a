/** schemas/fragment.schema.json is derived from the host schema; the committed copy must be current. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO } from './helpers/cli.js';
// @ts-expect-error: a build script in plain JavaScript, without types
import { fragmentSchema } from '../scripts/fragment-schema.mjs';

const read = (name: string) => JSON.parse(readFileSync(path.join(REPO, 'schemas', name), 'utf8')) as Record<string, unknown>;

describe('fragment schema', () => {
  it('is the derivation of host-spec.schema.json (run npm run build after changing it)', () => {
    expect(read('fragment.schema.json')).toEqual((fragmentSchema as (s: unknown) => unknown)(read('host-spec.schema.json')));
  });

  it('has no host key and the merge keys', () => {
    const props = read('fragment.schema.json').properties as Record<string, unknown>;
    expect(props.host).toBeUndefined();
    expect(Object.keys(props)).toEqual(expect.arrayContaining(['include', 'exclude', 'defaults']));
  });
});
