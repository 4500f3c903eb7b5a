import type { Style } from '../render/style.js';
import { redact } from '../spec/secrets.js';
import type { Review } from './review.js';
import { RISKS, type Risk } from '../plan/types.js';

const MARK: Record<string, string> = { added: '+', removed: '-', changed: '~' };
const BADGE: Record<string, string> = { none: '⚪ none', reload: '🔵 reload', restart: '🟡 restart', disruptive: '🟠 disruptive', destructive: '🔴 destructive' };

function counts(r: Review): string {
  const all = r.specs.flatMap((s) => s.changes);
  if (!all.length) return 'no resource changes';
  const by = new Map<string, number>();
  for (const c of all) by.set(c.risk, (by.get(c.risk) ?? 0) + 1);
  const ranked = [...by].sort(([a], [b]) => RISKS.indexOf(b as Risk) - RISKS.indexOf(a as Risk));
  return `${all.length} resource change${all.length === 1 ? '' : 's'}: ${ranked.map(([risk, n]) => `${n} ${risk}`).join(', ')}`;
}

export function renderReviewText(r: Review, style: Style): string {
  const out: string[] = [`review against ${r.base.ref} (${r.base.commit.slice(0, 12)})`];
  for (const s of r.specs) {
    out.push('', style.bold(`${s.path}: ${s.status}`));
    for (const c of s.changes) {
      const risk = c.risk === 'destructive' || c.risk === 'disruptive' ? style.red(c.risk) : c.risk === 'restart' ? style.yellow(c.risk) : c.risk;
      out.push(`  ${MARK[c.change]} ${c.address}  ${c.change}, risk ${risk}${c.reasons.length ? `: ${c.reasons.join('; ')}` : ''}`);
    }
    for (const e of s.errors) out.push(style.red(`  ${e}`));
    for (const w of s.warnings) out.push(style.yellow(`  ${w}`));
  }
  out.push('', style.bold(`${counts(r)}${r.risky ? `; risky (worst: ${r.risk})` : ''}`));
  return redact(out.join('\n') + '\n');
}

export function renderReviewJson(r: Review): string {
  return redact(JSON.stringify(r, null, 2)) + '\n';
}

const cell = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|');

export function renderReviewMarkdown(r: Review): string {
  const out: string[] = [`### reconcile review against \`${r.base.ref}\` (\`${r.base.commit.slice(0, 12)}\`)`, ''];
  out.push(`**${counts(r)}**${r.risky ? ` · worst risk ${BADGE[r.risk]}` : ''}`, '');
  for (const s of r.specs) {
    out.push(`#### \`${s.path}\` (${s.status})`, '');
    if (s.changes.length) {
      out.push('| resource | change | risk | why |', '|---|---|---|---|');
      for (const c of s.changes) out.push(`| \`${c.address}\` | ${c.change} | ${BADGE[c.risk]} | ${cell(c.reasons.join('; '))} |`);
      out.push('');
    }
    if (s.errors.length) out.push('**Invalid:**', '', ...s.errors.map((e) => `- ${cell(e)}`), '');
    if (s.warnings.length) out.push('**Lint:**', '', ...s.warnings.map((w) => `- ${cell(w)}`), '');
  }
  return redact(out.join('\n').replace(/\n+$/, '') + '\n');
}
