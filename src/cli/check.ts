/**
 * `kubeproof check [paths…]`: everything that can be known of the features without a cluster
 * or a kubeconfig — they parse, every step matches exactly one definition with arguments of the
 * right type, what a step needs an earlier step to have done is there, every manifest a step
 * applies loads, and every object a step names is one its scenario defines. Exit 0, or 2 with
 * file:line for each problem; `--json` prints them for editors and pre-commit hooks.
 */
import { ExitCode } from '../errors.js';
import { matchFeatures, formatProblem, type Problem } from '../run/match.js';
import { staticProblems } from '../run/static-check.js';

export interface CheckOptions {
  paths: string[];
  tags?: string;
  json: boolean;
  cwd: string;
  projectDir?: string;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

export interface CheckReport {
  ok: boolean;
  files: number;
  scenarios: number;
  /** Steps matched (a Background's counted in every scenario). */
  steps: number;
  problems: Problem[];
  /** Notes on wording: an older sentence still matched, a better one for what a step says. Not problems. */
  notes: Problem[];
  /** Wall-clock and CPU milliseconds of the check (after the process started); on a busy machine the CPU figure is the steadier one. */
  ms: number;
  cpuMs: number;
}

export async function checkFeatures(opts: Pick<CheckOptions, 'paths' | 'tags' | 'cwd' | 'projectDir'>): Promise<CheckReport> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const m = await matchFeatures({ paths: opts.paths, tags: opts.tags, cwd: opts.cwd });
  const problems = [...m.problems];
  if (m.scenarios === 0 && problems.length === 0) problems.push({ file: opts.paths.join(' ') || 'features/', line: 0, message: `no scenario${opts.tags ? ` with tags ${opts.tags}` : ''}` });
  problems.push(...(await staticProblems(m.matched, opts.projectDir ?? opts.cwd)));
  const steps = m.matched.reduce((n, s) => n + s.length, 0);
  problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { ok: problems.length === 0, files: m.files, scenarios: m.scenarios, steps, problems, notes: m.notes, ms: Math.round(performance.now() - t0), cpuMs: Math.round(((c) => (c.user + c.system) / 1000)(process.cpuUsage(cpu0))) };
}

export async function check(opts: CheckOptions): Promise<number> {
  const out = opts.out ?? ((t: string) => process.stdout.write(t));
  const err = opts.err ?? ((t: string) => process.stderr.write(t));
  const report = await checkFeatures(opts);
  if (opts.json) out(`${JSON.stringify(report, null, 2)}\n`);
  else {
    for (const p of report.problems) err(`${formatProblem(p)}\n`);
    for (const n of report.notes) err(`note: ${formatProblem(n)}\n`);
    err(`${report.scenarios} scenario(s), ${report.steps} matched step(s) in ${report.files} feature file(s): ${report.ok ? 'no problem' : `${report.problems.length} problem(s)`}${report.notes.length ? `, ${report.notes.length} note(s)` : ''} (${report.ms} ms, ${report.cpuMs} ms of CPU)\n`);
  }
  return report.ok ? ExitCode.ok : ExitCode.badInput;
}
