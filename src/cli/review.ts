import { review } from '../review/review.js';
import { renderReviewJson, renderReviewMarkdown, renderReviewText } from '../review/render.js';
import * as path from 'node:path';
import { fleetAround, reviewFleet } from '../review/fleet.js';
import { renderFleetReview, renderFleetReviewJson } from '../review/fleet-render.js';
import { realPath } from '../fleet/files.js';
import { plainStyle, styleFor } from '../render/style.js';
import { formatDiagnostic, UserError } from '../errors.js';
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
  const fleetRoot = fleetOf(positionals);
  if (fleetRoot) return reviewFleetCommand(values.base, fleetRoot, format, values);
  if (values.limit) throw new UserError('reconcile review: --limit selects hosts of a fleet; run review inside one (fleet.yaml above)');
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

/** The fleet around the working directory (no SPEC), or around every SPEC given (one fleet). */
function fleetOf(specs: string[]): string | undefined {
  if (!specs.length) return fleetAround(process.cwd());
  const roots = new Set(specs.map((s) => fleetAround(path.dirname(path.resolve(s)))));
  const [only] = roots;
  return roots.size === 1 && only ? realPath(only) : undefined;
}

async function reviewFleetCommand(base: string, fleetRoot: string, format: 'text' | 'json' | 'markdown', values: { quiet?: boolean; 'no-color'?: boolean; limit?: string[] }): Promise<number> {
  const r = await reviewFleet(base, fleetRoot, { limit: values.limit });
  const text = format === 'json' ? renderFleetReviewJson(r) : renderFleetReview(r, format, format === 'text' ? styleFor(process.stdout, !!values['no-color']) : plainStyle);
  if (!values.quiet || format !== 'text') process.stdout.write(text);
  if (r.blocked) {
    const errors = r.findings.new.filter((f) => f.severity === 'error');
    process.stderr.write(`reconcile review: ${errors.length} new error finding${errors.length === 1 ? '' : 's'} since ${base}:\n${errors.map((f) => `${formatDiagnostic(f)}\n`).join('')}`);
    return 1;
  }
  return r.risky ? 2 : 0;
}
