/**
 * Repeated faults: inject, wait for the recovery condition, measure; N times. The per-trial
 * times and their percentiles are recorded for the report and for percentile steps.
 */
import type { Scenario } from '../scenario/scenario.js';
import { Slot } from '../scenario/slot.js';
import type { Condition } from '../wait/until.js';
import { until } from '../wait/until.js';
import { stats } from '../timeline/stats.js';
import { killPodsWith, planPodKill, type PodKill } from './pod-kill.js';
import { injectFault } from './fault.js';
import { describeTarget } from '../workload/pods.js';

/** Per-trial values of the last repeated fault, for percentile steps. */
export const TRIALS = new Slot('trials', (): number[] => []);

export interface TrialResult {
  valuesMs: number[];
  seeds: number[];
}

export async function repeatPodKill(s: Scenario, kill: PodKill, times: number, recovered: Condition, withinMs: number): Promise<TrialResult> {
  const valuesMs: number[] = [];
  const seeds: number[] = [];
  const ran = await injectFault(s, kill, () => `kill ${JSON.stringify(kill.howMany)} pod(s) of ${describeTarget(kill.target)} ${times} times, waiting each time for: ${recovered.description}`, async (_, inject) => {
    for (let i = 0; i < times; i++) {
      // Start each trial from a recovered state, so trials are comparable.
      await until(recovered, { within: withinMs });
      const plan = planPodKill(s.timeline, { ...kill, seed: kill.seed === undefined ? undefined : kill.seed + i });
      seeds.push(plan.seed);
      const at = await killPodsWith(s, kill.target, plan, inject);
      const out = await until(recovered, { within: withinMs, since: at });
      valuesMs.push(Math.round(out.at - at));
    }
    return true;
  });
  if (!ran) return { valuesMs, seeds };
  s.state(TRIALS).splice(0, Infinity, ...valuesMs);
  const st = stats(valuesMs);
  s.timeline.measure({
    name: `recovery of ${describeTarget(kill.target)} over ${times} pod-kill trials (${recovered.description})`,
    value: st.p90,
    unit: 'ms',
    detail: { statistic: 'p90', trialsMs: valuesMs, seeds, p50: st.p50, p90: st.p90, p95: st.p95, max: st.max, mean: Math.round(st.mean) },
  });
  return { valuesMs, seeds };
}
