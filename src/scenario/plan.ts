/**
 * Plan mode (`kubeproof plan`): the scenario is walked — its namespace made, its Given
 * workloads deployed, so faults can name their victims — but nothing a When step would change
 * is changed and no check runs; each step that would act says what it would do instead.
 */
import type { Scenario } from './scenario.js';

/** What a step would do, in words: one line or several. */
export type PlanText = string | string[];

/**
 * The one place plan mode is decided: in plan mode the text `describe` gives is what the
 * scenario reports (an empty list: nothing to say, e.g. a check) and `act` does not run
 * (undefined); otherwise `act` runs. Faults reach it through `injectFault`; the other steps
 * that would act (a probe that starts, a wait, a check, a change of the scenario's own
 * objects) call it directly.
 */
export async function unlessPlanning<R>(s: Scenario, describe: () => PlanText, act: () => Promise<R>): Promise<R | undefined> {
  if (s.planOnly) {
    const text = describe();
    s.plans.push(...(Array.isArray(text) ? text : [text]));
    return undefined;
  }
  return act();
}

