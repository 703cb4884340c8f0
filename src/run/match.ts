/**
 * Parse the features and match every step, without a cluster: what `kubeproof run` does before
 * it touches anything, and all that `kubeproof check` does (plus the static checks of
 * src/run/static-check.ts). The problems are file:line and a message each.
 */
import { join, relative } from 'node:path';
import { loadConfiguration, loadSupport, loadSources, runCucumber, type IRunConfiguration } from '@cucumber/cucumber/api';
import type { Envelope } from '@cucumber/messages';
import { Writable } from 'node:stream';
import { explainUndefined } from './suggest.js';
import { unmetNeeds, type MatchedStep } from './preconditions.js';
import { projectRoot } from '../project.js';
import { BadInputError } from '../errors.js';

export interface Problem {
  file: string;
  line: number;
  message: string;
}

/** A matched step with what the static checks read: its docstring, and where each argument sits in its text. */
export interface CheckedStep extends MatchedStep {
  docString?: { content: string; line: number };
  /** The arguments' raw text, parameter type and offset in `text`. */
  argTexts?: Array<{ text: string; type: string; start: number }>;
}

export interface MatchedFeatures {
  runConfiguration: IRunConfiguration;
  support: Awaited<ReturnType<typeof loadSupport>>;
  scenarios: number;
  files: number;
  /** Selected scenarios tagged with `realTag`. */
  realScenarios: number;
  /** Each scenario's matched steps, Background first. */
  matched: CheckedStep[][];
  problems: Problem[];
  /** Notes on wording (older sentences, better ones): not problems. */
  notes: Problem[];
}

export interface MatchOptions {
  paths: string[];
  tags?: string;
  cwd: string;
  parallel?: number;
  realTag?: string;
}

/** "file:line: message" (as unmetNeeds says it) → a Problem. */
export function problemOf(text: string): Problem {
  const m = text.match(/^(.*?):(\d+): ([\s\S]*)$/);
  return m ? { file: m[1]!, line: Number(m[2]), message: m[3]! } : { file: '?', line: 0, message: text };
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}: ${p.message}`;
}

export async function matchFeatures(opts: MatchOptions): Promise<MatchedFeatures> {
  const { runConfiguration } = await loadConfiguration(
    {
      file: relative(opts.cwd, join(projectRoot, 'cucumber.mjs')),
      provided: {
        ...(opts.paths.length ? { paths: opts.paths } : { paths: [join(relative(opts.cwd, projectRoot) || '.', 'features/**/*.feature')] }),
        import: [join(projectRoot, 'dist/steps/index.js')],
        ...(opts.tags ? { tags: opts.tags } : {}),
        parallel: (opts.parallel ?? 1) > 1 ? opts.parallel! : 0,
      },
    },
    { cwd: opts.cwd },
  );
  const sources = await loadSources(runConfiguration.sources, { cwd: opts.cwd });
  const files = new Set(sources.plan.map((p) => p.uri)).size;
  const support = await loadSupport(runConfiguration, { cwd: opts.cwd });
  const base = { runConfiguration, support, scenarios: sources.plan.length, files, realScenarios: 0, matched: [], notes: [] };
  if (sources.errors.length) {
    return { ...base, problems: sources.errors.map((e) => ({ file: e.uri, line: e.location.line, message: e.message.split('\n')[0] ?? 'cannot parse feature' })) };
  }
  const problems: string[] = [];
  const expressions: string[] = [];
  const undefinedSteps: Array<{ where: string; text: string }> = [];
  const stepLines = new Map<string, { where: string; docStringLine?: number }>();
  const steps = new Map<string, { text: string; where: string; docString?: { content: string; line: number }; argument?: 'docstring' | 'data table' }>();
  const matched: CheckedStep[][] = [];
  let realScenarios = 0;
  await runCucumber(
    { ...runConfiguration, support, runtime: { ...runConfiguration.runtime, dryRun: true, parallel: 0 }, formats: { stdout: 'summary', files: {}, publish: false, options: {} } },
    { cwd: opts.cwd, stdout: devNull(), stderr: process.stderr },
    (env: Envelope) => {
      if (env.stepDefinition) expressions.push(env.stepDefinition.pattern.source);
      if (env.gherkinDocument) {
        const walk = (children: NonNullable<typeof env.gherkinDocument.feature>['children']) => {
          for (const c of children) {
            for (const s of [...(c.background?.steps ?? []), ...(c.scenario?.steps ?? [])]) {
              // The docstring's content starts on the line after its opening delimiter.
              stepLines.set(s.id, { where: `${env.gherkinDocument!.uri}:${s.location.line}`, ...(s.docString ? { docStringLine: s.docString.location.line + 1 } : {}) });
            }
            // Examples without rows make their scenario run 0 times: a scenario silently gone.
            for (const ex of c.scenario?.examples ?? []) {
              if (!ex.tableBody.length) problems.push(`${env.gherkinDocument!.uri}:${ex.location.line}: ${ex.keyword}: with no rows under scenario "${c.scenario!.name}" (line ${c.scenario!.location.line}): it would run 0 times; give the table a header and rows, or remove the ${ex.keyword}: line`);
            }
            if (c.rule) walk(c.rule.children as never);
          }
        };
        walk(env.gherkinDocument.feature?.children ?? []);
      }
      if (env.pickle) {
        if (opts.realTag && env.pickle.tags.some((t) => t.name === opts.realTag)) realScenarios++;
        for (const ps of env.pickle.steps) {
          const at = stepLines.get(ps.astNodeIds[0] ?? '');
          const doc = ps.argument?.docString;
          const argument = doc ? 'docstring' : ps.argument?.dataTable ? 'data table' : undefined;
          steps.set(ps.id, { text: ps.text, where: at?.where ?? env.pickle.uri, ...(doc ? { docString: { content: doc.content, line: at?.docStringLine ?? 0 } } : {}), ...(argument ? { argument } : {}) });
        }
      }
      if (env.testCase) {
        const scenario: CheckedStep[] = [];
        for (const ts of env.testCase.testSteps) {
          if (!ts.pickleStepId) continue;
          const st = steps.get(ts.pickleStepId);
          const n = ts.stepDefinitionIds?.length ?? 0;
          if (n === 0) undefinedSteps.push({ where: st?.where ?? '?', text: st?.text ?? '' });
          if (n > 1) problems.push(`${st?.where}: ${n} steps match "${st?.text}" (ambiguous)`);
          if (n === 1 && st) scenario.push(matchedStep(support, ts.stepDefinitionIds![0]!, st, problems));
        }
        matched.push(scenario);
      }
    },
  );
  problems.unshift(...undefinedSteps.map((u) => `${u.where}: "${u.text}": ${explainUndefined(u.text, expressions)}`));
  // What a step needs an earlier step to have done, and arguments it refuses: known now, not minutes into the run.
  const notes: string[] = [];
  problems.push(...unmetNeeds(matched, notes));
  return { ...base, realScenarios, matched, problems: [...new Set(problems)].map(problemOf), notes: notes.map(problemOf) };
}

/** What the loaded support library holds at run time (its public type hides it). */
interface LoadedStepDefinition {
  id: string;
  code: unknown;
  unwrappedCode?: unknown;
  expression: { match(text: string): Array<{ getValue(thisObj: unknown): unknown; group: { value: string; start?: number }; parameterType: { name?: string } }> | null };
}

/** A step as its definition will receive it: the function (which may carry its needs) and the arguments, transformed. */
function matchedStep(support: MatchedFeatures['support'], definitionId: string, st: { text: string; where: string; docString?: { content: string; line: number }; argument?: string }, problems: string[]): CheckedStep {
  const defs = (support as unknown as { stepDefinitions?: LoadedStepDefinition[] }).stepDefinitions;
  const def = Array.isArray(defs) ? defs.find((d) => d.id === definitionId) : undefined;
  let args: unknown[] | undefined;
  let argTexts: CheckedStep['argTexts'];
  try {
    const found = def?.expression.match(st.text);
    args = found?.map((a) => a.getValue(null));
    argTexts = found?.map((a) => ({ text: a.group.value, type: a.parameterType.name ?? '', start: a.group.start ?? -1 }));
    // Cucumber passes a docstring or data table as one more argument, and refuses the step when it
    // runs if the function does not take it (or wants one that is not there): say so now.
    const code = def?.code;
    if (found && typeof code === 'function') {
      const wants = code.length - found.length;
      if (st.argument && wants < 1) problems.push(`${st.where}: "${st.text}" takes no ${st.argument}: remove the ${st.argument} under it`);
      if (!st.argument && wants === 1) problems.push(`${st.where}: "${st.text}" needs a docstring or data table under it`);
    }
  } catch (err) {
    args = undefined;
    // An argument its parameter type refuses ("1000 h", "150%"): bad input now, not when the step runs.
    if (err instanceof BadInputError) problems.push(`${st.where}: "${st.text}": ${err.message}`);
  }
  return { where: st.where, text: st.text, code: def?.unwrappedCode ?? def?.code, ...(args ? { args } : {}), ...(argTexts ? { argTexts } : {}), ...(st.docString ? { docString: st.docString } : {}) };
}

function devNull(): Writable {
  return new Writable({ write: (_chunk, _enc, cb) => cb() });
}
