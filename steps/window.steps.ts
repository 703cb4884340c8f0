import { After, Status } from '@cucumber/cucumber';
import { step } from './vocabulary.js';
import type { KubeproofWorld } from './world.js';
import { fromNowOnMaxUnavailable } from '../src/expect/from-now-on.js';
import { judgeWindowClaims } from '../src/expect/window.js';
import { unlessPlanning } from '../src/scenario/plan.js';
import { need } from './needs.js';
import type { WorkloadKind } from '../src/workload/pods.js';

const { then } = step('windows');

then(
  'from now on, at no moment are more than {int} pod(s) of {workload} {string} unavailable',
  'Then from now on, at no moment are more than 0 pods of deployment "web" unavailable',
  function (n: number, kind: WorkloadKind, name: string) {
    fromNowOnMaxUnavailable(this.scenario, { kind, name }, n, `${this.step.file}:${this.step.line}`);
  },
  { requires: (_n: number, kind: WorkloadKind) => need.unavailableMeansSomething(kind) },
);

// Defined after steps/hooks.ts, so it runs before the scenario's undo (After hooks run last-defined first).
After(async function (this: KubeproofWorld, { result }) {
  if (!this.hasScenario || this.scenario.notApplicable || result?.status !== Status.PASSED) return;
  // Plan mode made no claim: nothing to judge.
  await unlessPlanning(this.scenario, () => [], async () => {
    const failures = judgeWindowClaims(this.scenario);
    if (failures.length) throw new Error(failures.join('\n'));
  });
});
