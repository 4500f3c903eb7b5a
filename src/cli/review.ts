import { review } from '../review/review.js';
import { renderReviewJson, renderReviewMarkdown, renderReviewText } from '../review/render.js';
import { styleFor } from '../render/style.js';
import { UserError } from '../errors.js';
import { oneOf, parse } from './args.js';

export const REVIEW_HELP = `usage: reconcile review --base REF [SPEC...] [--format text|json|markdown]

Compares the specs at the git commit REF (read with git show) with the working tree, without
touching any host: each resource added, removed or changed, with the risk its change carries
(reload, restart, disruptive, destructive), plus validation and the security lint of the new version.
  --base REF       the commit to compare with (e.g. origin/main, HEAD~1)
  SPEC...          the specs to review; default: every host spec changed since REF under this directory
  --format FORMAT  text (default), json (versioned) or markdown (for a pull-request comment)
exit 0 nothing risky · 2 a change with risk restart or worse · 1 error (an invalid spec included)`;

export async function reviewCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('review', argv, { base: { type: 'string' }, format: { type: 'string' } });
  if (values.help) {
    process.stdout.write(`${REVIEW_HELP}\n`);
    return 0;
  }
  if (!values.base) throw new UserError('reconcile review: --base REF is required (see reconcile review --help)');
  const format = oneOf('review', 'format', values.format, ['text', 'json', 'markdown'] as const, 'text');
  const r = await review(values.base, positionals);
  const text = format === 'json' ? renderReviewJson(r) : format === 'markdown' ? renderReviewMarkdown(r) : renderReviewText(r, styleFor(process.stdout, !!values['no-color']));
  if (!values.quiet || format !== 'text') process.stdout.write(text);
  const invalid = r.specs.filter((s) => s.errors.length);
  if (invalid.length) {
    process.stderr.write(`reconcile review: invalid spec${invalid.length === 1 ? '' : 's'}: ${invalid.map((s) => s.path).join(', ')}\n`);
    return 1;
  }
  return r.risky ? 2 : 0;
}
