/** Durations as people write them: "30 s", "2m", "1.5 seconds", "500ms" → milliseconds. */
import { BadInputError } from './errors.js';

const UNITS: Array<[RegExp, number]> = [
  [/^(ms|milliseconds?)$/, 1],
  [/^(s|secs?|seconds?)$/, 1000],
  [/^(m|mins?|minutes?)$/, 60_000],
  [/^(h|hours?)$/, 3_600_000],
];

/** The longest wait a timer can hold (setTimeout's limit, about 24.8 days): a longer deadline would fire at once. */
export const MAX_WAIT_MS = 2 ** 31 - 1;

export function parseDuration(text: string): number {
  const m = text.trim().match(/^(\d+(?:\.\d+)?)\s*([a-z]+)$/i);
  if (!m) throw new BadInputError(`"${text}" is not a duration (write e.g. "30 s", "2m", "500 ms")`);
  const unit = UNITS.find(([re]) => re.test(m[2]!.toLowerCase()));
  if (!unit) throw new BadInputError(`"${m[2]}" is not a unit of time (ms, s, m, h)`);
  const ms = Number(m[1]) * unit[1];
  // A timer given more than it can hold fires after 1 ms: "for 1000 h … stay Ready" would pass at once.
  if (!(ms <= MAX_WAIT_MS)) throw new BadInputError(`"${text}" is longer than kubeproof can wait (24 days)`);
  return ms;
}
