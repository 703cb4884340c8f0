import { step } from './vocabulary.js';
import { expectThroughout, expectWithin, expectNow } from '../src/expect/expect.js';
import { eventRecorded, jobFinished, pendingBecause, podCount, readyReplicas, spreadOverZones } from '../src/expect/conditions.js';
import type { Amount } from '../src/expect/amount.js';
import type { PodState, WorkloadKind } from '../src/workload/pods.js';
import { formatDuration } from '../src/log.js';

const { then } = step('expectations');

then('within {duration} {workload} {string} has {amount} ready replica(s)', 'Then within 30 s deployment "web" has 3 ready replicas', async function (within: number, kind: WorkloadKind, name: string, amount: Amount) {
  await expectWithin(this.scenario, readyReplicas(this.scenario.timeline, { kind, name }, amount), within);
});

then(
  '{workload} {string} now has {amount} ready replica(s)',
  'Then deployment "web" now has at least 2 ready replicas',
  async function (kind: WorkloadKind, name: string, amount: Amount) {
    await expectNow(readyReplicas(this.scenario.timeline, { kind, name }, amount));
  },
  { also: ['{workload} {string} has {amount} ready replica(s)'] },
);

then('within {duration} {amount} pod(s) of {workload} {string} is/are {podState}', 'Then within 30 s 3 pods of deployment "web" are Ready', async function (within: number, amount: Amount, kind: WorkloadKind, name: string, state: PodState) {
  await expectWithin(this.scenario, podCount(this.scenario.timeline, { workload: { kind, name } }, state, amount), within);
});

then(
  'within {duration} {amount} pod(s) of {workload} {string} is/are {podState} on node {string}',
  'Then within 30 s 1 pod of daemonset "agent" is Ready on node "node-1"',
  async function (within: number, amount: Amount, kind: WorkloadKind, name: string, state: PodState, node: string) {
    await expectWithin(this.scenario, podCount(this.scenario.timeline, { workload: { kind, name } }, state, amount, { node }), within);
  },
);

then(
  'within {duration} {amount} pod(s) of {workload} {string} is/are {podState} in zone {string}',
  'Then within 30 s at least 1 pod of statefulset "db" is Ready in zone "a"',
  async function (within: number, amount: Amount, kind: WorkloadKind, name: string, state: PodState, zone: string) {
    await expectWithin(this.scenario, podCount(this.scenario.timeline, { workload: { kind, name } }, state, amount, { zone }), within);
  },
);

then(
  'within {duration} every zone runs at least {int} Ready pod(s) of {workload} {string}',
  'Then within 30 s every zone runs at least 1 Ready pod of deployment "web"',
  async function (within: number, min: number, kind: WorkloadKind, name: string) {
    await expectWithin(this.scenario, spreadOverZones(this.scenario.timeline, { workload: { kind, name } }, min), within);
  },
);

then(
  'within {duration} {amount} pod(s) of {workload} {string} is/are Pending because {string}',
  'Then within 30 s 1 pod of deployment "huge" is Pending because "Insufficient cpu"',
  async function (within: number, amount: Amount, kind: WorkloadKind, name: string, reason: string) {
    await expectWithin(this.scenario, pendingBecause(this.scenario.timeline, { workload: { kind, name } }, amount, reason), within);
  },
);

then(
  'within {duration} an event {string} is recorded for {string}',
  'Then within 30 s an event "FailedScheduling" is recorded for "huge"',
  async function (within: number, reason: string, object: string) {
    await expectWithin(this.scenario, eventRecorded(this.scenario.timeline, reason, { object }), within);
  },
);

then(
  'within {duration} an event {string} mentioning {string} is recorded',
  'Then within 30 s an event "FailedCreate" mentioning "exceeded quota" is recorded',
  async function (within: number, reason: string, messageContains: string) {
    await expectWithin(this.scenario, eventRecorded(this.scenario.timeline, reason, { messageContains }), within);
  },
);

then('within {duration} job {string} completes', 'Then within 60 s job "migrate" completes', async function (within: number, name: string) {
  await expectWithin(this.scenario, jobFinished(this.scenario.timeline, name, 'Complete'), within);
});

then(
  'for {duration} {amount} pod(s) of {workload} {string} stay/stays {podState}',
  'Then for 5 s at least 2 pods of deployment "web" stay Ready',
  async function (forMs: number, amount: Amount, kind: WorkloadKind, name: string, state: PodState) {
    await expectThroughout(this.scenario, podCount(this.scenario.timeline, { workload: { kind, name } }, state, amount), forMs);
  },
  {
    hint: (forMs: number, amount: Amount, kind: WorkloadKind, name: string, state: PodState) =>
      amount.op === 'exactly' && amount.n === 0 ? `"no pods … stay ${state}" says that no pod is ${state} at any moment of the ${formatDuration(forMs)}: say "for ${formatDuration(forMs)} none of the pods of ${kind.toLowerCase()} "${name}" is ${state}"` : undefined,
  },
);

then(
  'for {duration} none of the pods of {workload} {string} is {podState}',
  'Then for 3 s none of the pods of deployment "huge" is Running',
  async function (forMs: number, kind: WorkloadKind, name: string, state: PodState) {
    await expectThroughout(this.scenario, podCount(this.scenario.timeline, { workload: { kind, name } }, state, { op: 'exactly', n: 0 }), forMs);
  },
);
