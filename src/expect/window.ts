/**
 * The window an "at no moment …" claim looks at. It opens explicitly ("From now on, at no
 * moment …"), or at the first thing the scenario did to its workloads — a fault, a kill, a
 * scale, an image change, a patch (FAULT_ACTIONS) — never at the scenario's start, which would
 * silently count the initial rollout's pods, not yet Ready, as unavailable. A claim made "from
 * now on" is judged when the scenario's last step has run (steps/window.steps.ts).
 */
import type { Scenario } from '../scenario/scenario.js';
import { Slot } from '../scenario/slot.js';
import { FAULT_ACTIONS } from './expect.js';
import type { ActionEntry } from '../timeline/timeline.js';
import { BadInputError } from '../errors.js';

/** The timeline action that opens a window explicitly. */
export const WINDOW_ACTION = 'window';

export interface Window {
  at: number;
  /** What opened it, in words ("the first fault (kill pods)", "'from now on' at features/x.feature:12"). */
  what: string;
}

/** Claims made "from now on", judged at the end of the scenario. */
export interface WindowClaim {
  description: string;
  where: string;
  window: Window;
  judge: (w: Window) => void;
}

export const WINDOW_CLAIMS = new Slot('window claims', (): WindowClaim[] => []);

/** The window of the scenario's "at no moment" claims: the latest explicit one, else the first fault or change. */
export function windowOf(s: Scenario): Window {
  const actions = s.timeline.entries.filter((e): e is ActionEntry => e.source === 'harness');
  const explicit = actions.findLast((e) => e.action === WINDOW_ACTION);
  if (explicit) return { at: explicit.at, what: `"from now on" (${explicit.detail})` };
  const first = actions.find((e) => FAULT_ACTIONS.has(e.action));
  const fault = s.faults[0];
  if (fault && (!first || fault.injectedAt <= first.at)) return { at: fault.injectedAt, what: `the first fault (${fault.type})` };
  if (first) return { at: first.at, what: `the first change (${first.action}: ${first.detail})` };
  // The scenario is written so: bad input (exit 2), as `kubeproof check` says before a run.
  throw new BadInputError('no window: nothing in this scenario opened one (a fault, a kill, a scale, an image change, a patch, or a "From now on, at no moment …" step), and its start would count the initial rollout');
}

/** "From now on, …": open a window now and judge `judge` over it when the scenario's steps are done. */
export function fromNowOn(s: Scenario, description: string, where: string, judge: (w: Window) => void): void {
  const mark = s.timeline.mark(WINDOW_ACTION, `${where}: ${description}`);
  s.state(WINDOW_CLAIMS).push({ description, where, window: { at: mark.at, what: `"from now on" at ${where}` }, judge });
}

/** Judge every "from now on" claim of the scenario; the failures, each with where it was made. */
export function judgeWindowClaims(s: Scenario): string[] {
  const failures: string[] = [];
  for (const c of s.state(WINDOW_CLAIMS)) {
    try {
      c.judge(c.window);
    } catch (err) {
      failures.push(`${c.where}: from now on, ${c.description}: ${(err as Error).message}`);
    }
  }
  return failures;
}
