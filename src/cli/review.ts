import { review } from '../review/review.js';
import { renderReviewJson, renderReviewMarkdown, renderReviewText } from '../review/render.js';
import { styleFor } from '../render/style.js';
import { UserError } from '../errors.js';
import { oneOf, parse } from './args.js';
import { commandHelp } from './docs.js';

export async function reviewCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('review', argv);
  if (values.help) {
    process.stdout.write(commandHelp('review'));
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
