/**
 * Fuzz: a few hundred mutants of the example specs per run (seeded; FUZZ_SEED replays a run,
 * FUZZ_COUNT sets how many; `npm run fuzz` runs thousands) through `validate` and `plan --root`:
 * exit 0/1/2 only, no stack trace, no hang, nothing written around or under the root.
 */
import { afterAll, expect, it } from 'vitest';
import { FuzzBed, describeFinding, fuzz } from './fuzz/harness.js';

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const count = Number(process.env.FUZZ_COUNT ?? 300);
const timeoutMs = Number(process.env.FUZZ_TIMEOUT_MS ?? 20_000);
const bed = new FuzzBed();
afterAll(() => bed.cleanup());

it(
  `validate and plan keep their promises on ${count} mutants of the examples (seed ${seed})`,
  async () => {
    const r = await fuzz(bed, { seed, count, timeoutMs, subprocessEvery: 97 });
    console.log(`fuzz: seed ${seed}, ${count} mutants, ${r.runs} runs in ${r.ms} ms; exits ${JSON.stringify(r.exits)}; ms ${JSON.stringify(r.msBy)}`);
    expect(r.findings.map(describeFinding).join('\n\n'), `fuzz seed ${seed}`).toBe('');
  },
  // Bounded per run by timeoutMs; the whole: a generous multiple of the usual ~50 ms per run.
  60_000 + count * 2 * 1_000,
);
