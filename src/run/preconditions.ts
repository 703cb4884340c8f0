/**
 * What a step needs an earlier step of its scenario to have done — "the unready pod of
 * deployment web" needs a readiness break of deployment web, "the drain of node node-1" a drain
 * of node-1 — and arguments a step refuses whatever the cluster. Checked when the steps are
 * matched, before any cluster is touched: a scenario that could only fail minutes into a run
 * is bad input (exit 2) with file:line instead.
 */

/** A fact a step establishes for the steps after it, e.g. "readiness broken of Deployment web". */
export type Fact = string;

/** One of `anyOf` established by an earlier step of the scenario (`what` says it in words), or the arguments refused outright. */
export type Need =
  | { anyOf: Fact[]; what: string; example: string }
  | { refuse: string }
  /** Not a problem, a note: said unless `unless` holds of the facts established before the step (e.g. a wording that reads wrong here). */
  | { note: string; unless?: (facts: ReadonlySet<Fact>) => boolean };

/** The manifests a step applies (paths relative to the project; its docstring, as a manifest applied, one meant to be rejected, or a patch): `kubeproof check` loads them and knows the scenario's objects. */
export interface Applies {
  paths?: string[];
  docString?: 'manifest' | 'rejected' | 'patch';
}

export interface StepNeeds {
  provides?: (...args: any[]) => Fact[];
  requires?: (...args: any[]) => Need | Need[] | undefined;
  applies?: (...args: any[]) => Applies;
  /** A note on how the step is worded (an older wording, a better sentence for what it says), shown by `kubeproof check` and `run`. */
  hint?: (...args: any[]) => string | undefined;
}

/** Where a step definition's function carries its needs (set by steps/vocabulary.ts). */
export const STEP_NEEDS = Symbol.for('kubeproof.stepNeeds');

export interface MatchedStep {
  /** file:line */
  where: string;
  text: string;
  /** The matched definition's function (which may carry STEP_NEEDS) and the step's arguments as the function receives them. */
  code?: unknown;
  args?: unknown[];
}

export function needsOf(code: unknown): StepNeeds | undefined {
  return code && (typeof code === 'function' || typeof code === 'object') ? ((code as Record<symbol, StepNeeds | undefined>)[STEP_NEEDS] ?? undefined) : undefined;
}

/** Every unmet need of every scenario (each a sequence of matched steps, Background first), as "file:line: message"; `notes` gets the notes and hints. */
export function unmetNeeds(scenarios: MatchedStep[][], notes: string[] = []): string[] {
  const problems: string[] = [];
  for (const steps of scenarios) {
    const facts = new Set<Fact>();
    for (const st of steps) {
      const needs = needsOf(st.code);
      if (!needs) continue;
      const args = st.args ?? [];
      const hint = needs.hint?.(...args);
      if (hint) notes.push(`${st.where}: "${st.text}": ${hint}`);
      const required = needs.requires?.(...args);
      for (const need of required === undefined ? [] : Array.isArray(required) ? required : [required]) {
        if ('note' in need) {
          if (!need.unless?.(facts)) notes.push(`${st.where}: "${st.text}": ${need.note}`);
        } else if ('refuse' in need) problems.push(`${st.where}: "${st.text}": ${need.refuse}`);
        else if (!need.anyOf.some((f) => facts.has(f))) problems.push(`${st.where}: "${st.text}" needs ${need.what} earlier in its scenario (e.g. "${need.example}")`);
      }
      for (const f of needs.provides?.(...args) ?? []) facts.add(f);
    }
  }
  const unique = [...new Set(notes)];
  notes.splice(0, notes.length, ...unique);
  return [...new Set(problems)];
}
