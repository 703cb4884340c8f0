import { step } from './vocabulary.js';
import { breakReadiness, restoreReadiness, unreadyVictims } from '../src/faults/readiness.js';
import { applyLoad, removeLoad } from '../src/faults/load.js';
import { measureAvailability } from '../src/probes/availability.js';
import { expectThroughout, expectWithin } from '../src/expect/expect.js';
import { endpointsReady, notRestartedNorReplaced, podIdentity } from '../src/expect/endpoints.js';
import { expectEviction, pdbHealthy } from '../src/expect/eviction.js';
import { awaitHpaMetrics, expectNeverAboveMax, expectScaleDown, expectScaleUp } from '../src/expect/hpa.js';
import { expectAvailability, expectNoOutageLongerThan, expectReadyEndpointsAlways } from '../src/expect/availability.js';
import type { HowMany } from '../src/faults/pod-kill.js';
import type { Amount } from '../src/expect/amount.js';
import type { WorkloadKind } from '../src/workload/pods.js';
import { fact, need } from './needs.js';

const { given, when, then } = step('app faults');

// Readiness

when('{howMany} of {workload} {string} fail(s) readiness', 'When 1 pod of deployment "web" fails readiness', async function (howMany: HowMany, kind: WorkloadKind, name: string) {
  await breakReadiness(this.scenario, { workload: { kind, name }, howMany });
}, { provides: (_h: HowMany, kind: WorkloadKind, name: string) => [fact.readinessBroken(kind, name), fact.anyReadinessBroken] });

when('pod {string} fails readiness', 'When pod "db-1" fails readiness', async function (pod: string) {
  await breakReadiness(this.scenario, { pods: [pod] });
}, { provides: () => [fact.anyReadinessBroken] });

when('the readiness of {workload} {string} is restored', 'When the readiness of deployment "web" is restored', async function (kind: WorkloadKind, name: string) {
  await restoreReadiness(this.scenario, { kind, name });
}, { requires: (kind: WorkloadKind, name: string) => need.readinessBroken(kind, name) });

when('every broken readiness is restored', 'When every broken readiness is restored', async function () {
  await restoreReadiness(this.scenario);
}, { requires: () => need.anyReadinessBroken() });

then(
  'within {duration} the unready pod(s) of {workload} {string} leave(s) the ready endpoints of service {string}',
  'Then within 5 s the unready pod of deployment "web" leaves the ready endpoints of service "web"',
  async function (within: number, kind: WorkloadKind, name: string, service: string) {
    const pods = unreadyVictims(this.scenario, { workload: { kind, name } }).map((v) => v.name);
    await expectWithin(this.scenario, endpointsReady(this.scenario.timeline, service, pods, false), within);
  },
  { requires: (_within: number, kind: WorkloadKind, name: string) => need.readinessBroken(kind, name) },
);

then('within {duration} pod {string} leaves the ready endpoints of service {string}', 'Then within 5 s pod "db-1" leaves the ready endpoints of service "db"', async function (within: number, pod: string, service: string) {
  await expectWithin(this.scenario, endpointsReady(this.scenario.timeline, service, [pod], false), within);
});

then(
  'for {duration} the unready pod(s) of {workload} {string} is/are neither restarted nor replaced',
  'Then for 10 s the unready pod of deployment "web" is neither restarted nor replaced',
  async function (forMs: number, kind: WorkloadKind, name: string) {
    await expectThroughout(this.scenario, notRestartedNorReplaced(this.scenario.timeline, unreadyVictims(this.scenario, { workload: { kind, name } })), forMs);
  },
  { requires: (_for: number, kind: WorkloadKind, name: string) => need.readinessBroken(kind, name) },
);

then('for {duration} pod {string} is neither restarted nor replaced', 'Then for 5 s pod "db-1" is neither restarted nor replaced', async function (forMs: number, pod: string) {
  await expectThroughout(this.scenario, notRestartedNorReplaced(this.scenario.timeline, [podIdentity(this.scenario, pod)]), forMs);
});

then(
  'within {duration} the unready pod(s) of {workload} {string} return(s) to the ready endpoints of service {string}',
  'Then within 5 s the unready pod of deployment "web" returns to the ready endpoints of service "web"',
  async function (within: number, kind: WorkloadKind, name: string, service: string) {
    const pods = unreadyVictims(this.scenario, { workload: { kind, name } }).map((v) => v.name);
    await expectWithin(this.scenario, endpointsReady(this.scenario.timeline, service, pods, true), within);
  },
  { requires: (_within: number, kind: WorkloadKind, name: string) => need.readinessBroken(kind, name) },
);

then('within {duration} pod {string} returns to the ready endpoints of service {string}', 'Then within 5 s pod "db-1" returns to the ready endpoints of service "db"', async function (within: number, pod: string, service: string) {
  await expectWithin(this.scenario, endpointsReady(this.scenario.timeline, service, [pod], true), within);
}, { requires: (_within: number, pod: string, service: string) => need.tookOut(pod, service) });

then('within {duration} pod {string} becomes a ready endpoint of service {string}', 'Then within 30 s pod "ordered-2" becomes a ready endpoint of service "ordered"', async function (within: number, pod: string, service: string) {
  await expectWithin(this.scenario, endpointsReady(this.scenario.timeline, service, [pod], true), within);
});

// Disruption budgets and unready pods

then('within {duration} PodDisruptionBudget {string} counts {amount} healthy pod(s)', 'Then within 10 s PodDisruptionBudget "web" counts 2 healthy pods', async function (within: number, pdb: string, amount: Amount) {
  await expectWithin(this.scenario, pdbHealthy(this.scenario, pdb, amount), within);
});

then('evicting a Ready pod of {workload} {string} is refused with 429', 'Then evicting a Ready pod of deployment "web" is refused with 429', async function (kind: WorkloadKind, name: string) {
  await expectEviction(this.scenario, { kind, name }, 'Ready', 'refused');
});

then('evicting an unready pod of {workload} {string} is refused with 429', 'Then evicting an unready pod of deployment "web" is refused with 429', async function (kind: WorkloadKind, name: string) {
  await expectEviction(this.scenario, { kind, name }, 'unready', 'refused');
});

then('evicting an unready pod of {workload} {string} is allowed', 'Then evicting an unready pod of deployment "lenient" is allowed', async function (kind: WorkloadKind, name: string) {
  await expectEviction(this.scenario, { kind, name }, 'unready', 'allowed');
});

// Load and the HorizontalPodAutoscaler

given('within {duration} HPA {string} reads its CPU metric', 'Given within 90 s HPA "shop" reads its CPU metric', async function (within: number, hpa: string) {
  await awaitHpaMetrics(this.scenario, hpa, within);
});

when('a load of {float} CPU core(s) is offered to {workload} {string}', 'When a load of 0.4 CPU cores is offered to deployment "shop"', async function (cores: number, kind: WorkloadKind, name: string) {
  await applyLoad(this.scenario, { kind, name }, cores);
}, { provides: (_c: number, kind: WorkloadKind, name: string) => [fact.loaded(kind, name)] });

when('the load on {workload} {string} is removed', 'When the load on deployment "shop" is removed', async function (kind: WorkloadKind, name: string) {
  await removeLoad(this.scenario, { kind, name });
}, { requires: (kind: WorkloadKind, name: string) => need.loaded(kind, name), provides: () => [fact.loadRemoved] });

then('within {duration} HPA {string} scales from {int} to at least {int} replicas', 'Then within 60 s HPA "shop" scales from 2 to at least 4 replicas', async function (within: number, hpa: string, from: number, to: number) {
  await expectScaleUp(this.scenario, hpa, from, to, within);
});

then('HPA {string} never exceeded its maximum replicas', 'Then HPA "shop" never exceeded its maximum replicas', function (hpa: string) {
  expectNeverAboveMax(this.scenario, hpa);
});

then('within {duration} HPA {string} scales back down to {int} replicas', 'Then within 90 s HPA "shop" scales back down to 2 replicas', async function (within: number, hpa: string, to: number) {
  await expectScaleDown(this.scenario, hpa, to, within);
});

// Availability

given('availability of service {string} is measured', 'Given availability of service "web" is measured', async function (service: string) {
  await measureAvailability(this.scenario, service);
}, { provides: (service: string) => [fact.measured(service)] });

then('availability of service {string} stayed ≥ {percent}', 'Then availability of service "web" stayed ≥ 99.5 %', function (service: string, percent: number) {
  expectAvailability(this.scenario, service, percent);
}, { requires: (service: string) => need.measured(service) });

then('service {string} had no outage longer than {duration}', 'Then service "web" had no outage longer than 2 s', function (service: string, maxMs: number) {
  expectNoOutageLongerThan(this.scenario, service, maxMs);
}, { requires: (service: string) => need.measured(service) });

then('service {string} had at least {int} ready endpoints at every moment', 'Then service "web" had at least 2 ready endpoints at every moment', function (service: string, min: number) {
  expectReadyEndpointsAlways(this.scenario, service, min);
}, { requires: (service: string) => need.measured(service) });
