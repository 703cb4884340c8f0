/**
 * Human progress goes to stderr, so stdout stays machine-readable
 * (`export $(kubeproof cluster up)` must see exactly one line there).
 */
export type Log = (line: string) => void;

export const stderrLog: Log = (line) => {
  process.stderr.write(`${line}\n`);
};

export const silentLog: Log = () => {};

/** True when progress should be plain lines: not a terminal, or in CI. */
export function plainOutput(): boolean {
  return !process.stderr.isTTY || process.env.CI === 'true' || process.env.CI === '1';
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}
