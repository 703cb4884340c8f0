/**
 * What a "Then" step does with a condition: wait for it within a deadline (failing with
 * what was seen and the recent Events), or check it holds throughout a window; and record
 * the measured time from the last fault as a figure for the report.
 */
import type { Scenario } from '../scenario/scenario.js';
import { holds, until, type Condition, type Outcome } from '../wait/until.js';
import { now } from '../kube/informer.js';
import { formatDuration } from '../log.js';
import { LAST_MET } from './lower-bound.js';
import { CHANGE_NAMES, FAULT_NAMES } from '../faults/fault.js';

/** The timeline actions that count as the scenario's faults and changes: the names faults are injected and changes marked under (faults/fault.ts). */
export const FAULT_ACTIONS: ReadonlySet<string> = new Set<string>([...FAULT_NAMES, ...CHANGE_NAMES]);

/** The latest fault-like harness action of the scenario, if any. */
function lastFault(s: Scenario) {
  for (let i = s.timeline.entries.length - 1; i >= 0; i--) {
    const e = s.timeline.entries[i]!;
    if (e.source === 'harness' && FAULT_ACTIONS.has(e.action)) return e;
  }
  return undefined;
}

/**
 * Wait until `condition` holds, at most `withinMs` from now. When a fault preceded it, the
 * time from that fault to the event that satisfied the condition is recorded as a measurement.
 */
export async function expectWithin(s: Scenario, condition: Condition, withinMs: number): Promise<Outcome> {
  const fault = lastFault(s);
  const started = now();
  const outcome = await until(condition, {
    within: withinMs,
    since: started,
    explain: () => {
      const evs = s.timeline.recentEvents({ limit: 8 });
      return evs.length ? `  recent events:\n${evs.map((e) => `    ${e}`).join('\n')}` : '  recent events: none';
    },
  });
  s.state(LAST_MET).last = { description: condition.description, at: outcome.at, alreadyTrue: !outcome.change, ...(fault ? { fault: { action: fault.action, at: fault.at } } : {}) };
  if (fault) {
    const sinceFault = outcome.at - fault.at;
    // Already true when the step began (an earlier step waited past it): the moment it became true is not known, only that it was by now.
    const bound = outcome.change ? '' : ' (already so when checked: an upper bound)';
    s.timeline.measure({ name: `${condition.description} — after "${fault.action}"${bound}`, value: Math.round(sinceFault), unit: 'ms', detail: { fault: fault.detail } });
  }
  return outcome;
}

/** The condition holds now and at every event for `forMs`. */
export async function expectThroughout(s: Scenario, condition: Condition, forMs: number): Promise<void> {
  await holds(condition, { forMs });
  s.timeline.mark('held', `${condition.description} for ${formatDuration(forMs)}`);
}

/** The condition holds right now (no waiting). */
export async function expectNow(condition: Condition): Promise<void> {
  await until(condition, { within: 0 });
}
