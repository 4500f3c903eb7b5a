/**
 * The YAML library's errors in our words, each naming the key or construct at fault and where it
 * started (an unclosed quote is reported by the library where the file ends; we point at the quote).
 * The library's own text never reaches the user: a code without a sentence here gets a generic one.
 */
import type { Document, LineCounter, YAMLError } from 'yaml';

type Pos = { line: number; col: number };
export interface YamlMessage extends Pos {
  message: string;
}

interface Source {
  text: string;
  lineCounter: LineCounter;
  /** The parsed document, for the first occurrence of a duplicate key. */
  doc?: Document.Parsed;
  yaml: typeof import('yaml');
}

/** A quoted excerpt of the source at `offset`: the word a message names. */
function wordAt(text: string, offset: number): string {
  const rest = text.slice(offset).replace(/^[ \t]+/, '');
  const m = /^("(?:[^"\\\n]|\\.)*"?|'(?:[^'\n]|'')*'?|[^\s:,#\]}]+)/.exec(rest);
  const w = m?.[1] ?? rest.slice(0, 20).split('\n')[0]!;
  const short = w.length > 60 ? `${w.slice(0, 57)}...` : w;
  return /^["']/.test(short) ? short : `"${short}"`;
}

/** The source line holding `offset`. */
function lineAt(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const end = text.indexOf('\n', offset);
  return text.slice(start, end < 0 ? undefined : end);
}

/** "timezone:x" is one plain word, not a key: the commonest cause of a key that is not a key. */
function noSpaceAfterColon(line: string): string | undefined {
  const m = /^\s*(?:-\s+)?([A-Za-z0-9_.@/-]+):(\S.*)$/.exec(line);
  return m && !m[2]!.startsWith(':') ? `${m[1]}:${m[2]}` : undefined;
}

/** The last quote or bracket before `end` that is not closed, with its offset. */
function unclosedBefore(text: string, end: number, open: '"' | "'" | '{' | '['): number | undefined {
  if (open === '{' || open === '[') {
    const stack: number[] = [];
    let quote: string | undefined;
    for (let i = 0; i < end; i++) {
      const c = text[i]!;
      if (quote) {
        if (c === '\\' && quote === '"') i++;
        else if (c === quote) quote = undefined;
        continue;
      }
      if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
        while (i < end && text[i] !== '\n') i++;
        continue;
      }
      if ((c === '"' || c === "'") && (i === 0 || /[\s[{,:]/.test(text[i - 1]!))) quote = c;
      else if (c === '{' || c === '[') stack.push(i);
      else if ((c === '}' || c === ']') && stack.length) stack.pop();
    }
    for (let k = stack.length - 1; k >= 0; k--) if (text[stack[k]!] === open) return stack[k];
    return undefined;
  }
  // A quote that opens a value: after a space, "- ", ": ", "[", "{" or ",", or at a line's start.
  const opening = open === '"' ? /(^|[\s[{,])"/gm : /(^|[\s[{,])'/gm;
  let last: number | undefined;
  for (const m of text.slice(0, end).matchAll(opening)) {
    const at = m.index! + m[1]!.length;
    const rest = text.slice(at + 1, end);
    const closed = open === '"' ? /^(?:[^"\\]|\\.)*"/.test(rest) : /^(?:[^']|'')*'(?!')/.test(rest);
    if (!closed) {
      last = at;
      break;
    }
  }
  return last;
}

/** "line 3" or "line 3, column 7" for inside a message. */
const place = (p: Pos) => `line ${p.line}${p.col > 1 ? `, column ${p.col}` : ''}`;

/** One YAML library error or warning, as FILE:LINE:COL's position and our message. */
export function describeYamlError(err: YAMLError, src: Source): YamlMessage {
  const { text, lineCounter } = src;
  const offset = err.pos[0];
  const pos = lineCounter.linePos(offset);
  const at = (message: string, p: Pos = pos): YamlMessage => ({ ...p, message: `YAML: ${message}` });
  const word = wordAt(text, offset);
  const first = err.message.split('\n')[0]!;
  switch (err.code) {
    case 'DUPLICATE_KEY': {
      const dup = duplicateKey(src, offset);
      if (dup) return at(`key "${dup.key}" appears twice in the same map (${place(dup.first)} and ${place(pos)}); a map holds each key once: remove one or rename it`);
      return at(`key ${word} appears twice in the same map; a map holds each key once: remove one or rename it`);
    }
    case 'MULTIPLE_DOCS':
      return at('a second YAML document starts here ("---"); a spec is one document: remove the "---" line, or split the file into one spec per host');
    case 'TAB_AS_INDENT':
      return at('a tab character indents this line; YAML indents with spaces only');
    case 'BAD_INDENT':
      if (/^Flow (map|sequence)/.test(first)) return unclosedFlow(src, offset, pos, /^Flow map/.test(first) ? '{' : '[');
      if (/same column/.test(first)) return at(`the key ${word} does not start at the same column as the keys above it; every key of a map is indented alike`);
      return at(`${word} is indented wrongly for where it stands; check the indentation of this line and the one above`);
    case 'MISSING_CHAR': {
      if (/closing "quote/.test(first) || /closing 'quote/.test(first)) {
        const q = /closing "quote/.test(first) ? '"' : "'";
        const open = unclosedBefore(text, offset, q);
        const where = open === undefined ? pos : lineCounter.linePos(open);
        return at(`the ${q === '"' ? 'double' : 'single'}-quoted string that starts here is never closed; end it with ${q} on the same value`, where);
      }
      if (/without - indicator/.test(first)) return at(`${word} is indented like the list items above but does not start with "- "; indent it like the keys of the item above, or start a new item with "- "`);
      if (/Implicit map keys need to be followed by map values/.test(first)) {
        const glued = noSpaceAfterColon(lineAt(text, offset));
        if (glued) return at(`"${glued}" has no space after the colon, so it is a plain word, not a key; write "${glued.replace(':', ': ')}"`);
        return at(`${word} is not followed by ": " (a key needs a colon and a space before its value); or is this line indented more than the key above it?`);
      }
      if (/Missing , or :/.test(first)) return at(`${word}: a comma is missing between the items of this [...] or {...}`);
      return at(`a character is missing at ${word} (a comma, colon or closing bracket)`);
    }
    case 'BLOCK_AS_IMPLICIT_KEY':
      if (/:\s/.test(text.slice(offset, text.indexOf('\n', offset) >>> 0))) {
        return at(`a second ": " on one line, at ${word}; quote the value if it contains ": ", or put a nested map on lines of its own`);
      }
      return at(`the line after ${word} is indented more than its key, so it reads as part of this value; indent it like the key above, or remove the value ${word} to make it a nested map`);
    case 'MULTILINE_IMPLICIT_KEY': {
      const glued = noSpaceAfterColon(lineAt(text, offset));
      if (glued) return at(`"${glued}" has no space after the colon, so it is a plain word, not a key; write "${glued.replace(':', ': ')}"`);
      return at(`the key ${word} spans more than one line; a key is on one line (is a quote or bracket above left open, or a line indented wrongly?)`);
    }
    case 'BLOCK_IN_FLOW':
      return at(`a "- " list or "key:" block inside [...] or {...}; inside brackets, separate items with commas`);
    case 'BAD_DQ_ESCAPE':
      return at(`the escape ${/\\\S/.exec(first)?.[0] ?? '\\'} means nothing in a double-quoted string; write \\\\ for a backslash, or use single quotes`);
    case 'MULTIPLE_ANCHORS':
      return at('a value has more than one anchor (&name); give it one');
    case 'MULTIPLE_TAGS':
      return at('a value has more than one tag (!tag); specs need no tags');
    case 'ALIAS_PROPS':
      return at(`the alias ${word} has an anchor or a tag; an alias (*name) stands alone`);
    case 'BAD_ALIAS':
      return at(`${word} is not a valid alias; an alias is * followed by the name of an anchor (&name) defined above`);
    case 'KEY_OVER_1024_CHARS':
      return at('a key longer than 1024 characters; is a ": " missing, or a quote left open above?');
    case 'UNEXPECTED_TOKEN': {
      const token = /: "(.*)"$/.exec(first)?.[1];
      return at(`${token ? `"${token}"` : word} is out of place here${token && /^[\]}]$/.test(token) ? ' (it closes a bracket that was never opened)' : ''}`);
    }
    case 'BAD_SCALAR_START':
      return at(`a plain value cannot start with ${JSON.stringify(word[0] ?? '')}; quote it: "${word}"`);
    case 'BAD_DIRECTIVE':
      return at(`${word} is not a YAML directive this reader knows; a spec needs no % directives`);
    case 'TAG_RESOLVE_FAILED':
      return at(`the tag ${word} is unknown; specs need no tags: remove it`);
    case 'NON_STRING_KEY':
      return at('a key here is a map or a list; keys are plain words');
    case 'BAD_PROP_ORDER':
      return at('an anchor or tag is placed where it cannot apply; write it just before its value');
    case 'BAD_COLLECTION_TYPE':
      return at('a tag asks for a collection of a different kind than the one written; specs need no tags');
    default:
      return at(`unreadable YAML at ${word} (${err.code})`);
  }
}

/** A flow collection not closed: the bracket that opened it, and what it needs. */
function unclosedFlow(src: Source, offset: number, pos: Pos, c: '{' | '['): YamlMessage {
  const open = unclosedBefore(src.text, offset, c);
  const close = c === '{' ? '}' : ']';
  if (open === undefined) return { ...pos, message: `YAML: a ${c}...${close} is not closed before this line` };
  return { ...src.lineCounter.linePos(open), message: `YAML: the ${c} opened here is never closed with ${close}` };
}

/** The key of the duplicate at `offset` and where its first occurrence is. */
function duplicateKey(src: Source, offset: number): { key: string; first: Pos } | undefined {
  if (!src.doc) return undefined;
  const { visit, isScalar } = src.yaml;
  let found: { key: string; first: Pos } | undefined;
  visit(src.doc, {
    Map(_, map) {
      if (found) return visit.BREAK;
      const seen = new Map<string, number>();
      for (const pair of map.items) {
        if (!isScalar(pair.key) || !pair.key.range) continue;
        const key = String(pair.key.value);
        if (pair.key.range[0] === offset && seen.has(key)) {
          found = { key, first: src.lineCounter.linePos(seen.get(key)!) };
          return visit.BREAK;
        }
        if (!seen.has(key)) seen.set(key, pair.key.range[0]);
      }
      return undefined;
    },
  });
  return found;
}

/** An error of turning the tree into values: an alias without its anchor, or an alias bomb. */
export function describeValueError(e: unknown, src: Source): YamlMessage {
  const message = (e as Error)?.message ?? String(e);
  const alias = /Unresolved alias.*: (.+)$/.exec(message.split('\n')[0]!)?.[1];
  if (alias !== undefined) {
    let pos: Pos = { line: 1, col: 1 };
    if (src.doc) {
      const { visit } = src.yaml;
      visit(src.doc, {
        Alias(_, node) {
          if (node.source !== alias || !node.range) return undefined;
          pos = src.lineCounter.linePos(node.range[0]);
          return visit.BREAK;
        },
      });
    }
    return { ...pos, message: `YAML: the alias *${alias} refers to no anchor; define &${alias} on a value above it (anchors are per file)` };
  }
  if (/Excessive alias count/.test(message)) return { line: 1, col: 1, message: 'YAML: aliases expand to more than 100 copies of their values (an alias bomb?); a spec needs far fewer' };
  return { line: 1, col: 1, message: `YAML: cannot read the values (${message.split('\n')[0]})` };
}
