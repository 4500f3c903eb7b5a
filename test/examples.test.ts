/** Every bundled example is a valid spec: the documentation users copy from must not rot. */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { REPO, runCli } from './helpers/cli.js';

const examples = readdirSync(path.join(REPO, 'examples')).filter((f) => f.endsWith('.yaml'));

describe('examples', () => {
  it('exist', () => expect(examples.length).toBeGreaterThan(0));
  for (const file of examples) {
    it(`${file} validates`, async () => {
      const r = await runCli(['validate', path.join('examples', file)]);
      expect(r.stderr.replace(/^.*warning: .*\n/gm, '')).toBe('');
      expect(r.exitCode).toBe(0);
    });
  }
});
