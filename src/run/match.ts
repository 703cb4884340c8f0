/**
 * Parse the features and match every step, without a cluster or cucumber's runtime: what `kubeproof run` does before
 * it touches anything, and all that `kubeproof check` does (plus the static checks of
 * src/run/static-check.ts). The problems are file:line and a message each.
 */
import { join, relative } from 'node:path';
import { loadConfiguration, loadSupport, type IRunConfiguration } from '@cucumber/cucumber/api';
import { pickFeatures } from './pickles.js';
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
  const support = await loadSupport(runConfiguration, { cwd: opts.cwd });
  const picked = await pickFeatures(runConfiguration.sources, opts.cwd);
  const files = new Set(picked.pickles.map((p) => p.uri)).size;
  const base = { runConfiguration, support, scenarios: picked.pickles.length, files, realScenarios: 0, matched: [], notes: [] };
  if (picked.errors.length) {
    return { ...base, problems: picked.errors.map((e) => ({ file: e.uri, line: e.line, message: e.message.split('\n')[0] ?? 'cannot parse feature' })) };
  }
  const problems: string[] = [];
  const definitions = (support as unknown as { stepDefinitions: LoadedStepDefinition[] }).stepDefinitions;
  const expressions = definitions.map((d) => (typeof d.pattern === 'string' ? d.pattern : d.pattern.source));
  const undefinedSteps: Array<{ where: string; text: string }> = [];
  const stepLines = new Map<string, { where: string; docStringLine?: number }>();
  for (const doc of picked.documents) {
    const walk = (children: NonNullable<typeof doc.feature>['children']) => {
      for (const c of children) {
        for (const s of [...(c.background?.steps ?? []), ...(c.scenario?.steps ?? [])]) {
          // The docstring's content starts on the line after its opening delimiter.
          stepLines.set(s.id, { where: `${doc.uri}:${s.location.line}`, ...(s.docString ? { docStringLine: s.docString.location.line + 1 } : {}) });
        }
        // Examples without rows make their scenario run 0 times: a scenario silently gone.
        for (const ex of c.scenario?.examples ?? []) {
          if (!ex.tableBody.length) problems.push(`${doc.uri}:${ex.location.line}: ${ex.keyword}: with no rows under scenario "${c.scenario!.name}" (line ${c.scenario!.location.line}): it would run 0 times; give the table a header and rows, or remove the ${ex.keyword}: line`);
        }
        if (c.rule) walk(c.rule.children as never);
      }
    };
    walk(doc.feature?.children ?? []);
  }
  const matched: CheckedStep[][] = [];
  let realScenarios = 0;
  for (const pickle of picked.pickles) {
    if (opts.realTag && pickle.tags.some((t) => t.name === opts.realTag)) realScenarios++;
    const scenario: CheckedStep[] = [];
    for (const ps of pickle.steps) {
      const at = stepLines.get(ps.astNodeIds[0] ?? '');
      const doc = ps.argument?.docString;
      const argument = doc ? 'docstring' : ps.argument?.dataTable ? 'data table' : undefined;
      const st = { text: ps.text, where: at?.where ?? pickle.uri, ...(doc ? { docString: { content: doc.content, line: at?.docStringLine ?? 0 } } : {}), ...(argument ? { argument } : {}) };
      // What cucumber's runtime does for each step: every definition whose expression matches.
      const found = definitions.filter((d) => d.matchesStepName(ps.text));
      if (found.length === 0) undefinedSteps.push({ where: st.where, text: st.text });
      if (found.length > 1) problems.push(`${st.where}: ${found.length} steps match "${st.text}" (ambiguous)`);
      if (found.length === 1) scenario.push(matchedStep(found[0]!, st, problems));
    }
    matched.push(scenario);
  }
  problems.unshift(...undefinedSteps.map((u) => `${u.where}: "${u.text}": ${explainUndefined(u.text, expressions)}`));
  // What a step needs an earlier step to have done, and arguments it refuses: known now, not minutes into the run.
  const notes: string[] = [];
  problems.push(...unmetNeeds(matched, notes));
  return { ...base, realScenarios, matched, problems: [...new Set(problems)].map(problemOf), notes: notes.map(problemOf) };
}

/** What the loaded support library holds at run time (its public type hides it). */
interface LoadedStepDefinition {
  code: unknown;
  unwrappedCode?: unknown;
  pattern: string | RegExp;
  matchesStepName(text: string): boolean;
  expression: { match(text: string): Array<{ getValue(thisObj: unknown): unknown; group: { value: string; start?: number }; parameterType: { name?: string } }> | null };
}

/** A step as its definition will receive it: the function (which may carry its needs) and the arguments, transformed. */
function matchedStep(def: LoadedStepDefinition, st: { text: string; where: string; docString?: { content: string; line: number }; argument?: string }, problems: string[]): CheckedStep {
  let args: unknown[] | undefined;
  let argTexts: CheckedStep['argTexts'];
  try {
    const found = def.expression.match(st.text);
    args = found?.map((a) => a.getValue(null));
    argTexts = found?.map((a) => ({ text: a.group.value, type: a.parameterType.name ?? '', start: a.group.start ?? -1 }));
    // Cucumber passes a docstring or data table as one more argument, and refuses the step when it
    // runs if the function does not take it (or wants one that is not there): say so now.
    const code = def.code;
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
  return { where: st.where, text: st.text, code: def.unwrappedCode ?? def.code, ...(args ? { args } : {}), ...(argTexts ? { argTexts } : {}), ...(st.docString ? { docString: st.docString } : {}) };
}
