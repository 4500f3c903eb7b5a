import { describe, expect, it } from 'vitest';
import { commandProblems, healthUrlProblem } from './rollout-checks.js';

describe('health.command as written (argv, never a shell)', () => {
  it('accepts an absolute path or a plain name, and shell metacharacters as the literal words they are', () => {
    for (const argv of [['/usr/bin/curl', '-fsS', 'http://127.0.0.1/'], ['curl'], ['pg_isready', '-q'], ['/bin/true', '; rm -rf /', '$(reboot)', '`id`', '| tee x', '&&', '*', '~']]) {
      expect(commandProblems(argv), JSON.stringify(argv)).toEqual([]);
    }
  });
  it('refuses a shell line as one word, a relative path, dots, NUL and line breaks, an empty program or argv', () => {
    const cases: [unknown[], RegExp][] = [
      [['curl -f http://x/'], /^health\.command\[0\]: "curl -f http:\/\/x\/" holds blanks: .*split it, e\.g\. \[curl, -f, http:\/\/x\/\]$/],
      [['sh\t-c'], /holds blanks/],
      [[' curl'], /holds blanks/],
      [['./check.sh'], /is a relative path/],
      [['bin/check'], /is a relative path/],
      [['/usr/../bin/sh'], /has \. or \.\. in it/],
      [['/usr/./bin/sh'], /has \. or \.\. in it/],
      [[''], /the program is empty/],
      [[], /an empty argv runs nothing/],
      [['/bin/echo', 'a\nExecStart=/bin/evil'], /^health\.command\[1\]: holds a NUL byte or a line break/],
      [['/bin/echo', 'a\0b'], /^health\.command\[1\]: holds a NUL/],
      [['/bin/echo', 'a\rb'], /^health\.command\[1\]: holds a NUL byte or a line break/],
    ];
    for (const [argv, want] of cases) {
      const found = commandProblems(argv).map(([, m]) => m);
      expect(found.length, JSON.stringify(argv)).toBe(1);
      expect(found[0], JSON.stringify(argv)).toMatch(want);
    }
  });
});

describe('health.http as written', () => {
  it('accepts http and https URLs with a host, a port, IPv6, a path and a query', () => {
    for (const url of ['http://127.0.0.1:8080/health', 'https://web1.example.internal/healthz?full=1', 'http://[::1]:9000/', 'http://localhost']) expect(healthUrlProblem(url), url).toBeNull();
  });
  it('refuses credentials without echoing them, other schemes, blanks, control characters and what does not parse', () => {
    const cases: [string, RegExp][] = [
      ['http://admin:hunter2@127.0.0.1/health', /holds a user or password/],
      ['http://admin@127.0.0.1/health', /holds a user or password/],
      ['http://127.0.0.1/a b', /blank or a control character/],
      ['http://127.0.0.1/\nX-Evil: 1', /blank or a control character/],
      ['http://127.0.0.1/\0', /blank or a control character/],
      ['http://[::1/', /not a URL/],
      ['http://hunter2:99999999/', /not a URL/],
      ['file:///etc/passwd', /file: is not http or https/],
      ['gopher://127.0.0.1/', /is not http or https/],
    ];
    for (const [url, want] of cases) {
      const m = healthUrlProblem(url);
      expect(m, url).toMatch(want);
      expect(m).not.toContain('hunter2');
    }
  });
});
