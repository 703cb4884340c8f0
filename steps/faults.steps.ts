import { step } from './vocabulary.js';
import { expect } from 'chai';
import { killScenarioPods, type HowMany } from '../src/faults/pod-kill.js';
import { repeatPodKill, TRIALS } from '../src/faults/trials.js';
import { readyReplicas } from '../src/expect/conditions.js';
import { percentile } from '../src/timeline/stats.js';
import { formatDuration } from '../src/log.js';
import type { WorkloadKind } from '../src/workload/pods.js';
import { fact, need } from './needs.js';

const { when, then } = step('faults');

when('{howMany} of {workload} {string} is/are killed', 'When 2 pods of deployment "web" are killed', async function (howMany: HowMany, kind: WorkloadKind, name: string) {
  await killScenarioPods(this.scenario, { target: { workload: { kind, name } }, howMany });
});

when('{howMany} of {workload} {string} is/are killed with seed {int}', 'When 50% of the pods of deployment "web" are killed with seed 42', async function (howMany: HowMany, kind: WorkloadKind, name: string, seed: number) {
  await killScenarioPods(this.scenario, { target: { workload: { kind, name } }, howMany, seed });
});

when(
  '{howMany} of {workload} {string} is/are killed with a grace period of {duration}',
  'When 1 pod of deployment "web" is killed with a grace period of 0 s',
  async function (howMany: HowMany, kind: WorkloadKind, name: string, grace: number) {
    await killScenarioPods(this.scenario, { target: { workload: { kind, name } }, howMany, gracePeriodSeconds: Math.round(grace / 1000) });
  },
);

when('the pods matching {string} are killed', 'When the pods matching "app=web" are killed', async function (selector: string) {
  await killScenarioPods(this.scenario, { target: { selector }, howMany: { percent: 100 } });
});

when(
  '{howMany} of {workload} {string} is/are killed {int} times, each time waiting up to {duration} for {int} ready replicas',
  'When 1 pod of deployment "web" is killed 5 times, each time waiting up to 30 s for 3 ready replicas',
  async function (howMany: HowMany, kind: WorkloadKind, name: string, times: number, within: number, replicas: number) {
    const s = this.scenario;
    await repeatPodKill(s, { target: { workload: { kind, name } }, howMany }, times, readyReplicas(s.timeline, { kind, name }, { op: 'at least', n: replicas }), within);
  },
  { provides: () => [fact.trials] },
);

then('the p{int} recovery time over the trials is under {duration}', 'Then the p90 recovery time over the trials is under 10 s', function (p: number, limit: number) {
  const trials = this.scenario.state(TRIALS);
  expect(trials, 'no trials were run in this scenario').to.not.be.empty;
  const value = percentile(trials, p);
  expect(value, `p${p} recovery over ${trials.length} trials was ${formatDuration(value)} (trials: ${trials.map((t) => formatDuration(t)).join(', ')})`).to.be.below(limit);
}, { requires: () => need.trials() });
