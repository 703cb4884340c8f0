/**
 * The summary printed at the end of `kubeproof run`: one line per scenario, its measured
 * figures below it, then the totals. Also the words a Measurement is shown with, which the
 * HTML timeline uses too, so both reports say the same thing the same way.
 */
import { formatDuration } from '../log.js';
import type { Measurement } from '../timeline/timeline.js';
import type { RunSummary, ScenarioStatus, ScenarioSummary } from './schema.js';

export function formatMeasurementValue(value: number, unit: Measurement['unit']): string {
  switch (unit) {
    case 'ms':
      return formatDuration(value);
    case 's':
      return formatDuration(value * 1000);
    case '%':
      return `${round(value, 1)} %`;
    case 'count':
      return String(round(value, 2));
    case 'replicas':
      return `${round(value, 2)} replica${value === 1 ? '' : 's'}`;
  }
}

const STATISTICS = ['min', 'p50', 'p90', 'p95', 'p99', 'max', 'mean'];

/** What moments in a measurement's detail are told against: the scenario's start and its faults. */
export interface ScenarioTimes {
  startedAt: number;
  faults: Array<{ type: string; injectedAt: number }>;
}

/** Epoch milliseconds: any number this large under a key like "at" or "gaveUpAt" is a moment, not a figure. */
const EPOCH_MS = 1e12;
const isMoment = (key: string, v: unknown): v is number => typeof v === 'number' && v > EPOCH_MS && (key === 'at' || /At$/.test(key));

/** A moment in words: after the fault that came last before it ("+10.0 s after drain node"), else after the scenario began. */
function moment(at: number, times: ScenarioTimes | undefined): string {
  if (!times) return new Date(at).toISOString().slice(11, 23);
  const fault = times.faults.filter((f) => f.injectedAt <= at).sort((a, b) => b.injectedAt - a.injectedAt)[0];
  return fault ? `+${formatDuration(at - fault.injectedAt)} after ${fault.type}` : `+${formatDuration(at - times.startedAt)} into the scenario`;
}

/**
 * A measurement in words: the headline ("p90 recovery …: 2.10 s (trials: 1.9, 2.0 s)") and
 * notes for what its detail holds. `compact` shortens long lists and leaves nested objects to the HTML report.
 */
export function describeMeasurement(m: Measurement, opts: { compact: boolean; times?: ScenarioTimes }): { headline: string; name: string; value: string; trials?: string; notes: string[] } {
  const scalar = (key: string, v: string | number | boolean) => (isMoment(key, v) ? moment(v, opts.times) : typeof v === 'number' && /Ms$/.test(key) ? formatDuration(v) : String(v));
  const detail = m.detail ?? {};
  const statistic = typeof detail.statistic === 'string' ? detail.statistic : undefined;
  const name = statistic && !m.name.startsWith(statistic) ? `${statistic} ${m.name}` : m.name;
  const value = formatMeasurementValue(m.value, m.unit);
  const trialValues = numbers(detail.trialsMs);
  const trials = trialValues && `trials: ${(opts.compact && trialValues.length > 8 ? [...trialValues.slice(0, 8).map(seconds), '…'] : trialValues.map(seconds)).join(', ')} s`;
  const headline = `${name}: ${value}${trials ? ` (${trials})` : ''}`;
  const notes: string[] = [];
  const stats = STATISTICS.filter((k) => k !== statistic && typeof detail[k] === 'number').map((k) => `${k} ${formatMeasurementValue(detail[k] as number, m.unit)}`);
  if (stats.length) notes.push(stats.join(' · '));
  for (const [key, value] of Object.entries(detail)) {
    if (key === 'statistic' || key === 'trialsMs' || STATISTICS.includes(key) || value === undefined || value === null) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') notes.push(`${words(key)}: ${scalar(key, value)}`);
    else if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) {
      // Phases and similar lists of sentences read best one per line.
      if (value.every((v) => typeof v === 'string' && v.length > 12)) notes.push(...(value as string[]));
      else notes.push(`${words(key)}: ${value.map(String).join(', ')}`);
    } else {
      const items = Array.isArray(value) ? value : [value];
      if (opts.compact && items.length > 3) notes.push(`${words(key)}: ${items.length} items, listed in timeline.html`);
      else notes.push(...items.map((v) => clip(`${words(key)}: ${objectLine(v, scalar)}`, opts.compact ? 140 : Infinity)));
    }
  }
  return { headline, name, value, ...(trials ? { trials } : {}), notes };
}

const MARKS: Record<ScenarioStatus, string> = {
  passed: '✔',
  failed: '✘',
  skipped: '–',
  'not-applicable': 'n/a',
  planned: '◇',
  undefined: '✘',
  ambiguous: '✘',
  pending: '–',
  unknown: '?',
};

const COLORS: Record<ScenarioStatus, number> = { passed: 32, failed: 31, skipped: 33, 'not-applicable': 36, planned: 34, undefined: 31, ambiguous: 31, pending: 33, unknown: 35 };

export function renderConsoleSummary(summary: RunSummary, opts: { color?: boolean; reports?: { summaryPath: string; timelinePath: string } } = {}): string {
  const paint = (code: number, text: string) => (opts.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const dim = (text: string) => paint(2, text);
  const lines: string[] = [];
  const c = summary.cluster;
  lines.push(`kubeproof run ${summary.runId}${c ? ` on ${c.kind} cluster "${c.name}" (Kubernetes ${c.serverVersion})` : ''}`);
  lines.push('');
  for (const s of summary.scenarios) lines.push(...scenarioLines(s, paint, dim));
  const t = summary.totals;
  const parts = [
    t.passed ? paint(COLORS.passed, `${t.passed} passed`) : '',
    t.failed ? paint(COLORS.failed, `${t.failed} failed`) : '',
    t.skipped ? paint(COLORS.skipped, `${t.skipped} skipped`) : '',
    t.notApplicable ? paint(COLORS['not-applicable'], `${t.notApplicable} not applicable`) : '',
    t.planned ? paint(COLORS.planned, `${t.planned} planned (nothing injected, no check run)`) : '',
  ].filter(Boolean);
  lines.push('');
  lines.push(`${t.scenarios} scenario${t.scenarios === 1 ? '' : 's'}${parts.length ? `: ${parts.join(', ')}` : ''} in ${formatDuration(summary.durationMs)}; exit code ${summary.exitCode}`);
  const laf = summary.leftAsFound;
  if (laf?.checked) {
    lines.push(laf.residue.length ? paint(COLORS.failed, `cluster NOT left as found:\n  ${laf.residue.join('\n  ')}`) : `cluster left as found (${laf.nodes} node${laf.nodes === 1 ? '' : 's'}: schedulability, taints, labels, annotations)`);
  }
  if (opts.reports) {
    lines.push(`summary:  ${opts.reports.summaryPath}`);
    lines.push(`timeline: ${opts.reports.timelinePath}`);
  }
  return lines.join('\n');
}

function scenarioLines(s: ScenarioSummary, paint: (code: number, text: string) => string, dim: (text: string) => string): string[] {
  const mark = paint(COLORS[s.status], MARKS[s.status].padEnd(3));
  const status = s.status === 'passed' || s.status === 'failed' || s.status === 'skipped' || s.status === 'not-applicable' ? '' : ` ${paint(COLORS[s.status], `(${s.status})`)}`;
  const out = [`${mark} ${s.name}${status}  ${dim(`${s.location}  ${formatDuration(s.durationMs)}`)}`];
  const indent = '      ';
  if (s.status === 'not-applicable' && s.data?.notApplicable) out.push(`${indent}${paint(COLORS['not-applicable'], `not applicable: ${s.data.notApplicable}`)}`);
  for (const plan of s.data?.plans ?? []) for (const l of `plan: ${plan}`.split('\n')) out.push(`${indent}${l}`);
  if (s.error) {
    if (s.failedStep) out.push(`${indent}${paint(COLORS.failed, `failed at "${s.failedStep.text}"`)} ${dim(`(${s.failedStep.location})`)}`);
    const errorLines = s.error.split('\n');
    for (const l of errorLines.slice(0, 6)) out.push(`${indent}${paint(COLORS.failed, l)}`);
    if (errorLines.length > 6) out.push(`${indent}${dim(`… ${errorLines.length - 6} more line(s) in summary.json`)}`);
  }
  for (const m of distinct(s.data?.measurements ?? [])) {
    const { headline, notes } = describeMeasurement(m, { compact: true, ...(s.data ? { times: s.data } : {}) });
    out.push(`${indent}${headline}`);
    for (const n of notes) out.push(`${indent}  ${dim(n)}`);
  }
  return out;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
}

function numbers(v: unknown): number[] | undefined {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;
}

/** "blockedMs" → "blocked"; "timingsInForce" → "timings in force". */
function words(key: string): string {
  return key
    .replace(/Ms$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

/** The same figure measured twice (two steps asking one question of one record) is shown once. */
export function distinct(ms: Measurement[]): Measurement[] {
  const seen = new Set<string>();
  return ms.filter((m) => {
    const key = JSON.stringify([m.name, m.unit, m.value, m.detail ?? null]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function objectLine(v: unknown, scalar: (key: string, v: string | number | boolean) => string): string {
  if (v === null || typeof v !== 'object') return String(v);
  return Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined && x !== null && !(Array.isArray(x) && x.length === 0))
    .map(([k, x]) => `${words(k)} ${typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean' ? scalar(k, x) : Array.isArray(x) && x.every((y) => typeof y !== 'object') ? x.join(', ') : JSON.stringify(x)}`)
    .join(', ');
}
