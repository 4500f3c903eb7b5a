import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import type { Node } from 'yaml';
import type { PathSegment } from '../spec/load.js';
import { pathKey, type MergedSpec, type Origin } from './merge.js';
import { lineOf } from './origins.js';

const require = createRequire(import.meta.url);
const yaml = () => require('yaml') as typeof import('yaml');

/**
 * The merged spec as YAML, a `# FILE:LINE` beside each entry, and beside each field that another
 * file said (with what it overrides). Valid YAML: it can be saved and validated as a plain spec.
 */
export function renderMergedYaml(merged: MergedSpec): string {
  const { Document, isMap, isSeq, isScalar } = yaml();
  // Shared lists (a YAML alias, a group reference expanded) are written out, not as anchors.
  const doc = new Document(merged.value, { aliasDuplicateObjects: false });
  const entryFile = (path: PathSegment[]): string | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const o = merged.origins.get(pathKey(path.slice(0, n)));
      if (o?.entry) return o.said.file.display;
    }
    return undefined;
  };
  const text = (o: Origin) => ` ${lineOf(o.said)}${o.overrides ? ` (overrides ${lineOf(o.overrides)})` : ''}`;
  const annotate = (node: unknown, keyNode: Node | undefined, path: PathSegment[]) => {
    const o = merged.origins.get(pathKey(path));
    const parentFile = entryFile(path.slice(0, -1));
    if (o && (o.entry || o.overrides || o.said.file.display !== parentFile)) {
      if (isScalar(node)) node.comment = text(o);
      else if (keyNode) keyNode.commentBefore = text(o);
      else if (node && typeof node === 'object') (node as Node).commentBefore = text(o);
    }
    if (isMap(node)) for (const pair of node.items) annotate(pair.value, pair.key as Node, [...path, String((pair.key as { value: unknown }).value)]);
    else if (isSeq(node)) node.items.forEach((item, i) => annotate(item, undefined, [...path, i]));
  };
  if (isMap(doc.contents)) for (const pair of doc.contents.items) annotate(pair.value, pair.key as Node, [String((pair.key as { value: unknown }).value)]);
  const sources = merged.sources.map((s) => s.file.display).join(', ');
  return `# ${merged.host}: merged from ${sources}\n${doc.toString({ lineWidth: 0 })}`;
}

/** `reconcile spec --format json`: the merged spec, the origin of each address and field, the sources. */
export function mergedJson(merged: MergedSpec): Record<string, unknown> {
  const origins: Record<string, string> = {};
  const overridden: Record<string, string> = {};
  for (const [address, o] of merged.addressOrigins) {
    origins[address] = lineOf(o.said);
    if (o.overrides) overridden[address] = lineOf(o.overrides);
  }
  return {
    formatVersion: 1,
    host: merged.host,
    spec: merged.value,
    origins,
    overridden,
    sources: merged.sources.map((s) => ({ path: s.file.display, sha256: createHash('sha256').update(s.file.loaded.text).digest('hex') })),
  };
}
