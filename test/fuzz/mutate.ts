/**
 * Seeded mutants of a YAML spec: hostile values (leading '-', '..', NUL/CR/LF/'#', quotes,
 * backslashes, octal escapes, huge and empty strings), wrong types, deleted and duplicated keys,
 * deep nesting, anchors and aliases, and raw text damage. The same seed gives the same mutant.
 */
import { HOSTILE_VALUES } from '../helpers/hostile.js';
import { Alias, isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';

/** mulberry32: small, fast, good enough to pick mutations; reproducible from one number. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** The project's hostile values (test/helpers/hostile.ts), plus what a spec's paths, names and types add. */
export const HOSTILE_STRINGS: readonly string[] = [
  ...Object.values(HOSTILE_VALUES),
  '-o',
  '--help',
  '-',
  '-rf',
  '--bind',
  '..',
  '../..',
  '/../../../outside',
  '/mnt/../../outside',
  '../outside/x',
  '/etc/../../outside',
  'a\0b',
  '\0',
  'a\rb',
  'a\nb',
  'line\n[Service]\nExecStart=/bin/evil',
  '#',
  '#comment',
  'a #b',
  'a b',
  ' leading',
  'trailing ',
  '"',
  "'",
  '"quoted"',
  '\\',
  'a\\b',
  '\\040',
  '\\012',
  'My\\040Data',
  '\\\\',
  '',
  ' ',
  '\t',
  'x'.repeat(70_000),
  '/' + 'd/'.repeat(3000),
  'é✓\u202e',
  '${HOME}',
  '$(id)',
  '`id`',
  ';id',
  '%s%n',
  '*',
  'a,b',
  'rw,no_root_squash',
  'a=b',
  'a(b)',
  '(rw)',
  '[Unit]',
  '0777',
  '99999999999999999999',
  '-1',
  '1e309',
  'NaN',
  '600h',
  '0s',
  '/',
  '//',
  '/dev/null',
  '/dev/zero',
  'null',
  '~',
  'yes',
  'localtime',
  'posixrules',
  'Etc/../../../etc/passwd',
  'app.service/../../x',
  '../x.service',
  'x.service',
  '-.mount',
  'postgres://u:p@127.0.0.1:1/d',
  'db0 hostaddr=127.0.0.1 sslmode=disable',
  '127.0.0.1',
  'password=leak',
];

const WRONG_TYPES: readonly (() => unknown)[] = [
  () => 0,
  () => -1,
  () => 3.5,
  () => 1e308,
  () => true,
  () => false,
  () => null,
  () => ({}),
  () => [],
  () => ['x', 1, null],
  () => ({ env: 'FUZZ_UNSET_VAR' }),
  () => ({ file: '/nonexistent/secret' }),
  () => ({ file: '/dev/zero' }),
  () => ({ a: { b: { c: 'd' } } }),
];

/** Keys whose values reach the network: kept as the test set them, so traffic stays on 127.0.0.1. */
const NETWORK_KEYS = new Set(['host', 'port', 'database']);

interface Slot {
  /** Replace the node at this place. */
  set(node: unknown): void;
  get(): unknown;
  /** Remove it (a map pair or a sequence item); undefined at the document root. */
  remove?: () => void;
  /** Add a copy beside it (a duplicated key or item). */
  duplicate?: () => void;
  key?: string;
  parentKey?: string;
}

function slots(doc: Document): Slot[] {
  const out: Slot[] = [];
  const walk = (node: unknown, parentKey: string | undefined) => {
    if (isMap(node)) {
      node.items.forEach((pair, i) => {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (!(parentKey === 'primary' && key !== undefined && NETWORK_KEYS.has(key)) && key !== 'database') {
          out.push({
            key,
            parentKey,
            get: () => pair.value,
            set: (v) => {
              pair.value = v as Node;
            },
            remove: () => node.items.splice(node.items.indexOf(pair), 1),
            duplicate: () => node.items.splice(i, 0, doc.createPair(pair.key, pair.value)),
          });
        }
        walk(pair.value, key);
      });
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        out.push({
          parentKey,
          get: () => node.items[i],
          set: (v) => {
            node.items[i] = v as Node;
          },
          remove: () => node.items.splice(i, 1),
          duplicate: () => node.items.splice(i, 0, item),
        });
        walk(item, parentKey);
      });
    }
  };
  walk(doc.contents, undefined);
  return out;
}

function deep(r: Rand, depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = r() < 0.5 ? [v] : { [pick(r, ['a', 'path', 'name', 'x'])]: v };
  return v;
}

type Mutation = (doc: Document, r: Rand) => string;

const MUTATIONS: Mutation[] = [
  // a hostile string where a value was
  (doc, r) => {
    const s = pick(r, slots(doc));
    if (!s) return 'none';
    const v = pick(r, HOSTILE_STRINGS);
    s.set(doc.createNode(v));
    return `set ${s.key ?? s.parentKey ?? '?'} = ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  },
  // a hostile string glued to the value that was there (a leading '-', a trailing newline...)
  (doc, r) => {
    const s = pick(r, slots(doc).filter((x) => isScalar(x.get())));
    if (!s) return 'none';
    const old = String((s.get() as Scalar).value);
    const add = pick(r, ['-', '../', '\n', '\r', '\0', '#', ' ', '"', '\\', ',', '/..', '\\040', '=']);
    const v = r() < 0.5 ? add + old : old + add;
    s.set(doc.createNode(v));
    return `edit ${s.key ?? s.parentKey ?? '?'} = ${JSON.stringify(v.slice(0, 60))}`;
  },
  // a value of the wrong type
  (doc, r) => {
    const s = pick(r, slots(doc));
    if (!s) return 'none';
    const v = pick(r, WRONG_TYPES)();
    s.set(doc.createNode(v));
    return `type ${s.key ?? s.parentKey ?? '?'} = ${JSON.stringify(v)}`;
  },
  // a key or item deleted
  (doc, r) => {
    const s = pick(r, slots(doc));
    if (!s?.remove) return 'none';
    s.remove();
    return `delete ${s.key ?? `item of ${s.parentKey}`}`;
  },
  // a key or item duplicated
  (doc, r) => {
    const s = pick(r, slots(doc));
    if (!s?.duplicate) return 'none';
    s.duplicate();
    return `duplicate ${s.key ?? `item of ${s.parentKey}`}`;
  },
  // deep nesting
  (doc, r) => {
    const s = pick(r, slots(doc));
    if (!s) return 'none';
    const depth = pick(r, [5, 50, 500]);
    s.set(doc.createNode(deep(r, depth, s.get() && isScalar(s.get()) ? (s.get() as Scalar).value : 'x')));
    return `nest ${s.key ?? s.parentKey ?? '?'} ${depth} deep`;
  },
  // an anchor on one node, an alias to it elsewhere (also an alias to itself's parent: a cycle the loader must refuse)
  (doc, r) => {
    const all = slots(doc);
    const from = pick(r, all);
    const to = pick(r, all);
    if (!from || !to) return 'none';
    const target = from.get();
    if (!target || isAlias(target) || typeof target !== 'object') return 'none';
    (target as Scalar | YAMLMap | YAMLSeq).anchor = 'a' + Math.floor(r() * 1000);
    to.set(new Alias((target as Scalar).anchor!));
    return `alias ${to.key ?? to.parentKey ?? '?'} -> &${(target as Scalar).anchor} (${from.key ?? from.parentKey ?? '?'})`;
  },
  // an unknown key beside the others
  (doc, r) => {
    const maps: YAMLMap[] = [];
    visit(doc, { Map: (_, m) => void maps.push(m) });
    const m = pick(r, maps);
    if (!m) return 'none';
    const key = pick(r, ['extra', '__proto__', 'constructor', 'hasOwnProperty', '<<', '']);
    m.items.push(doc.createPair(key, pick(r, HOSTILE_STRINGS)));
    return `add key ${JSON.stringify(key)}`;
  },
];

/** Raw text damage after serialising: what a bad editor or a broken merge leaves. */
const TEXT_MUTATIONS: ((text: string, r: Rand) => [string, string])[] = [
  (t, r) => {
    const i = Math.floor(r() * t.length);
    const c = pick(r, ['\0', '\r', '\t', '#', '"', "'", '\\', '&', '*', '!', '|', '>', '{', '[', '%', '@', '`', '\ufeff']);
    return [t.slice(0, i) + c + t.slice(i), `insert ${JSON.stringify(c)} at ${i}`];
  },
  (t, r) => {
    const lines = t.split('\n');
    const i = Math.floor(r() * lines.length);
    lines.splice(i, 0, lines[i] ?? '');
    return [lines.join('\n'), `duplicate line ${i + 1}`];
  },
  (t, r) => {
    const n = Math.floor(r() * t.length);
    return [t.slice(0, n), `truncate at ${n}`];
  },
  (t) => [t.replace(/\n/g, '\r\n'), 'CRLF line ends'],
  (t) => [`${'['.repeat(2000)}${']'.repeat(2000)}\n${t}`, 'deep flow nesting at the top'],
  (t) => [`a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n${t}`, 'alias bomb'],
];

export interface Mutant {
  text: string;
  /** What was done, in order: enough to see the input class without the bytes. */
  done: string[];
}

/** 1 to 3 mutations of the spec text; sometimes raw text damage after them. */
export function mutate(text: string, seed: number): Mutant {
  const r = rng(seed);
  const doc = parseDocument(text, { uniqueKeys: false });
  const done: string[] = [];
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) done.push(pick(r, MUTATIONS)(doc, r));
  let out: string;
  try {
    out = doc.toString({ lineWidth: 0 });
  } catch (e) {
    // An alias that now points into itself cannot be printed: keep the text of the mutations that could.
    done.push(`unprintable (${(e as Error).message})`);
    out = text;
  }
  if (r() < 0.2) {
    const [t, what] = pick(r, TEXT_MUTATIONS)(out, r);
    out = t;
    done.push(what);
  }
  return { text: out, done };
}
