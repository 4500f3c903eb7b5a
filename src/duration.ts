const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The longest wait a Node timer holds (2^31-1 ms, about 24.8 days): setTimeout fires at once for
 * anything longer, so a step deadline of 600h would fail every step and `drift --every` would spin.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** `500ms`, `10s`, `2m`, `1h30m` to milliseconds; undefined when malformed or past MAX_DURATION_MS. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(n) * UNIT_MS[unit!]!;
  return total <= MAX_DURATION_MS ? total : undefined;
}

/** Why a well-formed duration cannot be used, or null: the spec checker and the CLI say the same. */
export function durationTooLong(text: string): string | null {
  if (!/^(\d+(ms|s|m|h))+$/.test(text) || parseDuration(text) !== undefined) return null;
  return `${text} is longer than reconcile can wait (at most 596h, about 24.8 days)`;
}
