import { step } from './vocabulary.js';
import { drain } from '../src/faults/drain.js';
import './pod-parameters.js';
import { expectDrainAnswered, expectDrainAnsweredForPod, expectEvictionAnswer } from '../src/expect/eviction-answers.js';
import type { PodDesignator } from '../src/workload/pod-designator.js';
import type { Amount } from '../src/expect/amount.js';
import type { WorkloadKind } from '../src/workload/pods.js';
import { fact, need } from './needs.js';

const { when, then } = step('eviction answers');

then('evicting {pod} is answered with {int}', 'Then evicting pod "lonely" is answered with 404', async function (pod: PodDesignator, status: number) {
  await expectEvictionAnswer(this.scenario, { designated: pod }, status);
});

then(
  'evicting {pod} is answered with {int} naming PodDisruptionBudget {string}',
  'Then evicting the oldest pod of deployment "ledger" is answered with 429 naming PodDisruptionBudget "ledger"',
  async function (pod: PodDesignator, status: number, pdb: string) {
    await expectEvictionAnswer(this.scenario, { designated: pod }, status, pdb);
  },
);

then('evicting a Ready pod of {workload} {string} is answered with {int}', 'Then evicting a Ready pod of deployment "shared" is answered with 500', async function (kind: WorkloadKind, name: string, status: number) {
  await expectEvictionAnswer(this.scenario, { workload: { kind, name } }, status);
});

then(
  'evicting a Ready pod of {workload} {string} is answered with {int} naming PodDisruptionBudget {string}',
  'Then evicting a Ready pod of deployment "ledger" is answered with 429 naming PodDisruptionBudget "ledger"',
  async function (kind: WorkloadKind, name: string, status: number, pdb: string) {
    await expectEvictionAnswer(this.scenario, { workload: { kind, name } }, status, pdb);
  },
);

when('node {string} is drained, reporting refusals, giving up after {duration}', 'When node "node-1" is drained, reporting refusals, giving up after 10 s', async function (node: string, deadline: number) {
  await drain(this.scenario, { nodes: { name: node }, deadlineMs: deadline, mustComplete: false, reportRefusals: true });
}, { provides: (node: string) => [fact.drained(node)] });

then(
  'the drain of node {string} was answered with {int} for {amount} pod(s) of {workload} {string}',
  'Then the drain of node "node-1" was answered with 500 for 2 pods of deployment "shared"',
  function (node: string, status: number, amount: Amount, kind: WorkloadKind, name: string) {
    expectDrainAnswered(this.scenario, node, { kind, name }, amount, status);
  },
  { requires: (node: string) => need.drained(node) },
);

then(
  'the drain of node {string} was answered with {int} naming PodDisruptionBudget {string} for {amount} pod(s) of {workload} {string}',
  'Then the drain of node "node-1" was answered with 429 naming PodDisruptionBudget "ledger" for 3 pods of deployment "ledger"',
  function (node: string, status: number, pdb: string, amount: Amount, kind: WorkloadKind, name: string) {
    expectDrainAnswered(this.scenario, node, { kind, name }, amount, status, pdb);
  },
  { requires: (node: string) => need.drained(node) },
);

then(
  'the drain of node {string} was answered with {int} for {pod}',
  'Then the drain of node "node-1" was answered with 500 for the oldest pod of deployment "shared"',
  function (node: string, status: number, pod: PodDesignator) {
    expectDrainAnsweredForPod(this.scenario, node, pod, status);
  },
  { requires: (node: string) => need.drained(node) },
);

then(
  'the drain of node {string} was answered with {int} naming PodDisruptionBudget {string} for {pod}',
  'Then the drain of node "node-1" was answered with 429 naming PodDisruptionBudget "ledger" for the oldest pod of deployment "ledger"',
  function (node: string, status: number, pdb: string, pod: PodDesignator) {
    expectDrainAnsweredForPod(this.scenario, node, pod, status, pdb);
  },
  { requires: (node: string) => need.drained(node) },
);
