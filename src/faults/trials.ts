/**
 * Repeated faults: inject, wait for the recovery condition, measure; N times. The per-trial
 * times and their percentiles are recorded for the report and for percentile steps.
 */
import type { Scenario } from '../scenario/scenario.js';
import type { Condition } from '../expect/until.js';
import { until } from '../expect/until.js';
import { stats } from '../timeline/stats.js';
import { killPods, planPodKill, type PodKill } from './pod-kill.js';
import { describeTarget } from '../workload/pods.js';

export interface TrialResult {
  valuesMs: number[];
  seeds: number[];
}

export async function repeatPodKill(s: Scenario, kill: PodKill, times: number, recovered: Condition, withinMs: number): Promise<TrialResult> {
  const valuesMs: number[] = [];
  const seeds: number[] = [];
  if (s.planOnly) {
    s.plans.push(`kill ${JSON.stringify(kill.howMany)} pod(s) of ${describeTarget(kill.target)} ${times} times, waiting each time for: ${recovered.description}`);
    return { valuesMs, seeds };
  }
  for (let i = 0; i < times; i++) {
    // Start each trial from a recovered state, so trials are comparable.
    await until(recovered, { within: withinMs });
    const plan = planPodKill(s.timeline, { ...kill, seed: kill.seed === undefined ? undefined : kill.seed + i });
    seeds.push(plan.seed);
    const mark = await killPods(s.kube, s.timeline, plan);
    const out = await until(recovered, { within: withinMs, since: mark.at });
    valuesMs.push(Math.round(out.at - mark.at));
  }
  s.trials = valuesMs;
  const st = stats(valuesMs);
  s.timeline.measure({
    name: `recovery of ${describeTarget(kill.target)} over ${times} pod-kill trials (${recovered.description})`,
    value: st.p90,
    unit: 'ms',
    detail: { statistic: 'p90', trialsMs: valuesMs, seeds, p50: st.p50, p90: st.p90, p95: st.p95, max: st.max, mean: Math.round(st.mean) },
  });
  return { valuesMs, seeds };
}
