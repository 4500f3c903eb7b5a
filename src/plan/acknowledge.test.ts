import { describe, expect, it } from 'vitest';
import { acknowledgeDrift, addressMatches, endOfDayUtc } from './acknowledge.js';
import type { Change } from '../plan/types.js';

const change = (address: string): Change => ({ address, kind: address.split('[')[0]!, action: 'update', risk: 'none', summary: '', diff: '', steps: [] });

describe('ignoreDrift', () => {
  it('covers the whole UTC day of until, and not a millisecond more', () => {
    expect(endOfDayUtc('2026-03-01')).toBe(Date.parse('2026-03-01T23:59:59.999Z'));
    expect(endOfDayUtc('2026-02-30')).toBeNull();
    expect(endOfDayUtc('2026-3-1')).toBeNull();
  });

  it('acknowledges until the date, then reports the drift again with a warning', () => {
    const entries = [{ address: 'exports[/data/share]', until: '2026-03-01', reason: 'migration window' }];
    const before = [change('exports[/data/share]'), change('timezone')];
    expect(acknowledgeDrift(before, entries, new Date('2026-03-01T23:59:59Z'))).toEqual([]);
    expect(before[0]!.acknowledged).toEqual({ until: '2026-03-01', reason: 'migration window' });
    expect(before[1]!.acknowledged).toBeUndefined();

    const after = [change('exports[/data/share]')];
    expect(acknowledgeDrift(after, entries, new Date('2026-03-02T00:00:00Z'))).toEqual([
      'ignoreDrift[exports[/data/share]]: acknowledged until 2026-03-01, expired: reported as drift again',
    ]);
    expect(after[0]!.acknowledged).toBeUndefined();
  });

  it('says so when until is not a real date', () => {
    const c = [change('timezone')];
    expect(acknowledgeDrift(c, [{ address: 'timezone', until: '2026-02-30', reason: 'x' }], new Date('2026-01-01'))).toHaveLength(1);
    expect(c[0]!.acknowledged).toBeUndefined();
  });

  it('matches addresses exactly, or with * patterns', () => {
    expect(addressMatches('mounts[/mnt/*]', 'mounts[/mnt/a]')).toBe(true);
    expect(addressMatches('mounts[/mnt/a]', 'mounts[/mnt/ab]')).toBe(false);
    expect(addressMatches('exports[/a.b]', 'exports[/aXb]')).toBe(false);
  });
});
