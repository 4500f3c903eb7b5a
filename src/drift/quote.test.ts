import { describe, expect, it } from 'vitest';
import { quote } from './timer.js';

describe('ExecStart= words', () => {
  it('doubles systemd specifiers and expansions, quotes blanks', () => {
    expect(quote('/srv/specs/db1.yaml')).toBe('/srv/specs/db1.yaml');
    expect(quote('/srv/100%/x')).toBe('/srv/100%%/x');
    expect(quote('/srv/$HOME/x')).toBe('/srv/$$HOME/x');
    expect(quote('/srv/my specs/a "b".yaml')).toBe('"/srv/my specs/a \\"b\\".yaml"');
  });
});
