/**
 * Messages before and after: each case is a spec as a user writes it, what the user was told
 * before (the YAML library's own text, checked against the library so the "before" is real) and
 * the exact line `reconcile validate` prints now.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess } from './helpers/cli.js';
import { closestZone } from '../src/resources/timezone/validate.js';

const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-cmsg-messages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function validate(name: string, text: string): Promise<string> {
  writeFileSync(path.join(dir, name), text);
  const r = await runInProcess(['validate', path.join(dir, name)], 20_000);
  expect(r.exitCode).toBe(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  return r.stderr.replaceAll(`${dir}/`, '');
}

/** What the YAML library says of `text` (its first error), as users saw it before. */
function library(text: string): string {
  const d = parseDocument(text, { prettyErrors: false, uniqueKeys: true, merge: false });
  if (d.errors.length) return d.errors[0]!.message.split('\n')[0]!;
  try {
    d.toJS();
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

const YAML_CASES: { name: string; text: string; before: string; after: string }[] = [
  {
    name: 'duplicate key',
    text: 'host: web1\ntimezone: Etc/UTC\nhost: web2\n',
    before: 'Map keys must be unique',
    after: 'dup.yaml:3:1: YAML: key "host" appears twice in the same map (line 1 and line 3); a map holds each key once: remove one or rename it',
  },
  {
    name: 'multiple documents',
    text: 'host: web1\n---\nhost: web2\n',
    before: 'Source contains multiple documents; please use YAML.parseAllDocuments()',
    after: 'docs.yaml:2:1: YAML: a second YAML document starts here ("---"); a spec is one document: remove the "---" line, or split the file into one spec per host',
  },
  {
    name: 'tab indentation',
    text: 'host: web1\nunits:\n\t- name: a.service\n',
    before: 'Tabs are not allowed as indentation',
    after: 'tab.yaml:3:1: YAML: a tab character indents this line; YAML indents with spaces only',
  },
  {
    name: 'bad indentation in a list item',
    text: 'host: web1\nunits:\n  - name: a.service\n   enabled: true\n',
    before: 'Sequence item without - indicator',
    after: 'indent.yaml:4:1: YAML: "enabled" is indented like the list items above but does not start with "- "; indent it like the keys of the item above, or start a new item with "- "',
  },
  {
    name: 'keys not aligned',
    text: 'host: web1\nlock:\n    ttl: 5s\n  wait: 1s\n',
    before: 'All mapping items must start at the same column',
    after: 'align.yaml:4:1: YAML: the key "wait" does not start at the same column as the keys above it; every key of a map is indented alike',
  },
  {
    name: 'a line indented under a scalar',
    text: 'host: web1\n  timezone: Etc/UTC\n',
    before: 'Nested mappings are not allowed in compact mappings',
    after: 'under.yaml:1:7: YAML: the line after "web1" is indented more than its key, so it reads as part of this value; indent it like the key above, or remove the value "web1" to make it a nested map',
  },
  {
    name: 'unclosed double quote, pointed at where it opens',
    text: 'host: web1\ntimezone: "Asia/Tokyo\nunits: []\n',
    before: 'Missing closing "quote',
    after: 'dq.yaml:2:11: YAML: the double-quoted string that starts here is never closed; end it with " on the same value',
  },
  {
    name: 'unclosed flow collection, pointed at its bracket',
    text: 'host: web1\nmounts: [{path: /x, type: tmpfs\n',
    before: 'Flow map in block collection must be sufficiently indented and end with a }',
    after: 'flow.yaml:2:10: YAML: the { opened here is never closed with }\nflow.yaml:2:9: YAML: the [ opened here is never closed with ]',
  },
  {
    name: 'undefined anchor',
    text: 'host: web1\ntimezone: *tz\n',
    before: 'Unresolved alias (the anchor must be set before the alias): tz',
    after: 'alias.yaml:2:11: YAML: the alias *tz refers to no anchor; define &tz on a value above it (anchors are per file)',
  },
  {
    name: 'no space after a colon',
    text: 'host: web1\ntimezone:Etc/UTC\nunits: []\n',
    before: 'Implicit keys need to be on a single line',
    after: 'colon.yaml:2:1: YAML: "timezone:Etc/UTC" has no space after the colon, so it is a plain word, not a key; write "timezone: Etc/UTC"',
  },
  {
    name: 'a stray closing bracket',
    text: 'host: web1\n]\n',
    before: 'Unexpected flow-seq-end token in YAML stream: "]"',
    after: 'stray.yaml:2:1: YAML: "]" is out of place here (it closes a bracket that was never opened)',
  },
  {
    name: 'a bad escape',
    text: 'host: "web\\q1"\n',
    before: 'Invalid escape sequence \\q',
    after: 'esc.yaml:1:11: YAML: the escape \\q means nothing in a double-quoted string; write \\\\ for a backslash, or use single quotes',
  },
];

describe('YAML library messages, rewritten', () => {
  for (const c of YAML_CASES) {
    it(c.name, async () => {
      expect(library(c.text)).toBe(c.before);
      const file = c.after.split(':')[0]!;
      const out = await validate(file, c.text);
      expect(out.trimEnd()).toBe(c.after);
      expect(out).not.toContain(c.before);
    });
  }
});

describe('hints for values YAML reads otherwise than written', () => {
  const base = 'host: web1\nexports:\n  - path: /data/share\n    clients: [{host: "*", options: [ro]}]\n';
  it('before: "expected string, got number 755"; after: write mode: "0755" in quotes', async () => {
    const out = await validate('mode.yaml', `${base}    directory: {owner: nobody, group: nogroup, mode: 0755}\n`);
    expect(out.trimEnd()).toBe(
      'mode.yaml:5:54: exports[/data/share].directory.mode: expected string, got number 755; write mode: "0755" in quotes (unquoted, 0755 is read as the number 755)',
    );
  });

  it('a YAML 1.1 octal (0o755 read as 493) and a 3-digit mode get the same hint, written as 4 digits', async () => {
    expect(await validate('mode-o.yaml', `${base}    directory: {mode: 0o755}\n`)).toContain('got number 493; write mode: "0755" in quotes (unquoted, 0o755 is read as the number 493)');
    expect(await validate('mode-3.yaml', `${base}    directory: {mode: 750}\n`)).toContain('write mode: "0750" in quotes (unquoted, 750 is read as the number 750)');
  });

  it('before: expected boolean, got string "yes"; after: write true / false', async () => {
    const out = await validate('yes.yaml', 'host: web1\nunits:\n  - {name: a.service, enabled: yes}\n  - {name: b.service, enabled: Off}\n');
    expect(out).toBe(
      'yes.yaml:3:32: units[a.service].enabled: expected boolean, got string "yes"; write true (YAML reads yes as the string "yes" here)\n' +
        'yes.yaml:4:32: units[b.service].enabled: expected boolean, got string "Off"; write false (YAML reads Off as the string "Off" here)\n',
    );
  });

  it('a string that is no yes/no word gets no hint', async () => {
    const out = await validate('maybe.yaml', 'host: web1\nunits:\n  - {name: a.service, enabled: maybe}\n');
    expect(out.trimEnd()).toBe('maybe.yaml:3:32: units[a.service].enabled: expected boolean, got string "maybe"');
  });
});

describe('time zones', () => {
  it('before: a fixed example (e.g. Europe/Berlin); after: the closest zone of tzdata', async () => {
    for (const [typo, guess] of [
      ['Asia/Shangai', 'Asia/Shanghai'],
      ['America/New_Yrok', 'America/New_York'],
      ['europe/paris', 'Europe/Paris'],
      ['Tokyo', 'Asia/Tokyo'],
    ] as const) {
      const out = await validate('tz.yaml', `host: web1\ntimezone: ${typo}\n`);
      expect(out.trimEnd()).toBe(`tz.yaml:2:11: timezone: "${typo}" is not a zone known to tzdata (/usr/share/zoneinfo); did you mean ${guess}?`);
      expect(out).not.toContain('e.g. Europe/Berlin');
    }
  });

  it('nothing near: no guess; hostile names are not walked as paths', async () => {
    expect((await validate('tz.yaml', 'host: web1\ntimezone: Mars/Olympus_Mons\n')).trimEnd()).toBe('tz.yaml:2:11: timezone: "Mars/Olympus_Mons" is not a zone known to tzdata (/usr/share/zoneinfo)');
    expect(await validate('tz.yaml', 'host: web1\ntimezone: "../../etc/passwd"\n')).toContain('"../../etc/passwd" is not a time zone name');
    expect(closestZone('Berlin', ['Europe/Berlin', 'Europe/Bern'])).toBe('Europe/Berlin');
    expect(closestZone('xyzzy', ['Europe/Berlin'])).toBeUndefined();
  });
});

describe('unit and drop-in names', () => {
  it('say in words what a name looks like, never a regular expression', async () => {
    const out = await validate('units.yaml', 'host: web1\nunits:\n  - {name: "bad name", enabled: true}\n');
    expect(out.trimEnd()).toBe('units.yaml:3:12: units[bad name].name: "bad name" is not a unit name such as app.service or backup@.timer');
    expect(out).not.toMatch(/\^|\$"|\\\\/);
  });

  it('a drop-in name error names the file name, not the whole map with its content', async () => {
    const out = await validate('dropins.yaml', 'host: web1\nunits:\n  - name: c.service\n    dropins: {"x/../y": "[Service]\\nUser=app\\n"}\n');
    expect(out).toContain('units[c.service].dropins: "x/../y" is not a drop-in file name ending in .conf');
    expect(out).not.toContain('User=app');
  });
});
