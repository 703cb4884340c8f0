import { step } from './vocabulary.js';
import { requireRealNode } from '../src/scenario/requirements.js';
import { nodeDown } from '../src/faults/node-down.js';
import { killAgainOnceRestarted, killContainers } from '../src/faults/container-kill.js';
import { unreadyVictims } from '../src/faults/readiness.js';
import { expectWithin } from '../src/expect/expect.js';
import { expectBackOff, expectRestartedInPlace } from '../src/expect/restarts.js';
import { httpProbeOf, requestsAvoid, requestsReach } from '../src/expect/traffic.js';
import { readyPodsOnNode } from '../src/expect/placement.js';
import type { HowMany } from '../src/faults/pod-kill.js';
import type { WorkloadKind } from '../src/workload/pods.js';
import { fact, need } from './needs.js';

const { given, when, then } = step('real containers');

given('a real node', 'Given a real node', async function () {
  await requireRealNode(this.scenario);
});

given('{int} pod(s) of {workload} {string} run(s) on node {string}', 'Given 2 pods of deployment "failover" run on node "real-1"', async function (count: number, kind: WorkloadKind, name: string, node: string) {
  await expectWithin(this.scenario, readyPodsOnNode(this.scenario.timeline, { kind, name }, node, count), 10_000);
});

when('the kubelet of node {string} is stopped', 'When the kubelet of node "real-1" is stopped', async function (node: string) {
  await nodeDown(this.scenario, node, 'kubelet');
}, { provides: (node: string) => [fact.down(node)] });

when('the container of {howMany} of {workload} {string} is killed', 'When the container of 1 pod of deployment "app" is killed', async function (howMany: HowMany, kind: WorkloadKind, name: string) {
  await killContainers(this.scenario, { kind, name }, howMany);
}, { provides: () => [fact.containerKilled] });

when('the killed container is killed again as soon as it runs', 'When the killed container is killed again as soon as it runs', async function () {
  await killAgainOnceRestarted(this.scenario);
}, { requires: () => need.containerKilled() });

then('within {duration} the killed container is restarted in place by the kubelet', 'Then within 20 s the killed container is restarted in place by the kubelet', async function (within: number) {
  await expectRestartedInPlace(this.scenario, within);
}, { requires: () => need.containerKilled() });

then('the kubelet held the killed container in CrashLoopBackOff for at least {duration}', 'Then the kubelet held the killed container in CrashLoopBackOff for at least 5 s', function (minMs: number) {
  expectBackOff(this.scenario, minMs);
}, { requires: () => need.containerKilled() });

then(
  'within {duration} requests through service {string} no longer reach the unready pod(s) of {workload} {string}',
  'Then within 5 s requests through service "app" no longer reach the unready pod of deployment "app"',
  async function (within: number, service: string, kind: WorkloadKind, name: string) {
    const pods = unreadyVictims(this.scenario, { workload: { kind, name } }).map((v) => v.name);
    await expectWithin(this.scenario, requestsAvoid(httpProbeOf(this.scenario, service), service, pods), within);
  },
  { requires: (_within: number, service: string, kind: WorkloadKind, name: string) => [need.measured(service), need.readinessBroken(kind, name)] },
);

then(
  'within {duration} requests through service {string} reach the unready pod(s) of {workload} {string} again',
  'Then within 5 s requests through service "app" reach the unready pod of deployment "app" again',
  async function (within: number, service: string, kind: WorkloadKind, name: string) {
    const pods = unreadyVictims(this.scenario, { workload: { kind, name } }).map((v) => v.name);
    await expectWithin(this.scenario, requestsReach(httpProbeOf(this.scenario, service), service, pods), within);
  },
  { requires: (_within: number, service: string, kind: WorkloadKind, name: string) => [need.measured(service), need.readinessBroken(kind, name)] },
);

then('availability of service {string} was measured by HTTP requests', 'Then availability of service "app" was measured by HTTP requests', function (service: string) {
  httpProbeOf(this.scenario, service);
}, { requires: (service: string) => need.measured(service) });
