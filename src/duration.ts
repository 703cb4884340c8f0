/** Durations as people write them: "30 s", "2m", "1.5 seconds", "500ms" → milliseconds. */
const UNITS: Array<[RegExp, number]> = [
  [/^(ms|milliseconds?)$/, 1],
  [/^(s|secs?|seconds?)$/, 1000],
  [/^(m|mins?|minutes?)$/, 60_000],
  [/^(h|hours?)$/, 3_600_000],
];

export function parseDuration(text: string): number {
  const m = text.trim().match(/^(\d+(?:\.\d+)?)\s*([a-z]+)$/i);
  if (!m) throw new Error(`"${text}" is not a duration (write e.g. "30 s", "2m", "500 ms")`);
  const unit = UNITS.find(([re]) => re.test(m[2]!.toLowerCase()));
  if (!unit) throw new Error(`"${m[2]}" is not a unit of time (ms, s, m, h)`);
  return Number(m[1]) * unit[1];
}
