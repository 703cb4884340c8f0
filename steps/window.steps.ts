import { After, Status } from '@cucumber/cucumber';
import { step } from './vocabulary.js';
import type { KubeproofWorld } from './world.js';
import { fromNowOnAvailability, fromNowOnMaxUnavailable, fromNowOnNeverAboveMax, fromNowOnNoOutageLongerThan, fromNowOnPdbNeverNegative, fromNowOnReadyEndpoints } from '../src/expect/from-now-on.js';
import { judgeWindowClaims } from '../src/expect/window.js';
import { unlessPlanning } from '../src/scenario/plan.js';
import { fact, need } from './needs.js';
import type { WorkloadKind } from '../src/workload/pods.js';

const { then } = step('windows');

then(
  'from now on, at no moment are more than {int} pod(s) of {workload} {string} unavailable',
  'Then from now on, at no moment are more than 0 pods of deployment "web" unavailable',
  function (n: number, kind: WorkloadKind, name: string) {
    fromNowOnMaxUnavailable(this.scenario, { kind, name }, n, `${this.step.file}:${this.step.line}`);
  },
  { requires: (_n: number, kind: WorkloadKind) => need.unavailableMeansSomething(kind), provides: () => [fact.changed] },
);

then(
  'from now on, PodDisruptionBudget {string} never allows a negative number of disruptions',
  'Then from now on, PodDisruptionBudget "web" never allows a negative number of disruptions',
  function (pdb: string) {
    fromNowOnPdbNeverNegative(this.scenario, pdb, `${this.step.file}:${this.step.line}`);
  },
  { provides: () => [fact.changed] },
);

then('from now on, HPA {string} never exceeds its maximum replicas', 'Then from now on, HPA "shop" never exceeds its maximum replicas', function (hpa: string) {
  fromNowOnNeverAboveMax(this.scenario, hpa, `${this.step.file}:${this.step.line}`);
}, { provides: () => [fact.changed] });

then(
  'from now on, service {string} has at least {int} ready endpoint(s) at every moment',
  'Then from now on, service "web" has at least 2 ready endpoints at every moment',
  function (service: string, min: number) {
    fromNowOnReadyEndpoints(this.scenario, service, min, `${this.step.file}:${this.step.line}`);
  },
  { requires: (service: string) => need.measured(service), provides: () => [fact.changed] },
);

then('from now on, availability of service {string} stays ≥ {percent}', 'Then from now on, availability of service "web" stays ≥ 99 %', function (service: string, percent: number) {
  fromNowOnAvailability(this.scenario, service, percent, `${this.step.file}:${this.step.line}`);
}, { requires: (service: string) => need.measured(service), provides: () => [fact.changed] });

then('from now on, service {string} has no outage longer than {duration}', 'Then from now on, service "web" has no outage longer than 2 s', function (service: string, maxMs: number) {
  fromNowOnNoOutageLongerThan(this.scenario, service, maxMs, `${this.step.file}:${this.step.line}`);
}, { requires: (service: string) => need.measured(service), provides: () => [fact.changed] });

// Defined after steps/hooks.ts, so it runs before the scenario's undo (After hooks run last-defined first).
After(async function (this: KubeproofWorld, { result }) {
  if (!this.hasScenario || this.scenario.notApplicable || result?.status !== Status.PASSED) return;
  // Plan mode made no claim: nothing to judge.
  await unlessPlanning(this.scenario, () => [], async () => {
    const failures = judgeWindowClaims(this.scenario);
    if (failures.length) throw new Error(failures.join('\n'));
  });
});
