import { step } from './vocabulary.js';
import { drain } from '../src/faults/drain.js';
import { taint } from '../src/faults/taint.js';
import { bringNodeBack, nodeDown } from '../src/faults/node-down.js';
import { expectWithin } from '../src/expect/expect.js';
import { nodeReady } from '../src/expect/conditions.js';
import {
  expectDrainBlocked,
  expectDrainCompletedWithin,
  expectDrainGaveUp,
  expectEvictionDelay,
  expectMaxUnavailable,
  expectNodeReplaced,
  expectPdbNeverNegative,
  expectUnavailableReached,
} from '../src/expect/faults.js';
import type { WorkloadKind } from '../src/workload/pods.js';
import { fact, need } from './needs.js';

const { when, then } = step('node faults');
const DRAIN_DEADLINE = 120_000;

when('node {string} is drained', 'When node "node-1" is drained', async function (node: string) {
  await drain(this.scenario, { nodes: { name: node }, deadlineMs: DRAIN_DEADLINE, mustComplete: true });
}, { provides: (node: string) => [fact.drained(node)] });

when('node {string} is drained, including pods without a controller', 'When node "node-2" is drained, including pods without a controller', async function (node: string) {
  await drain(this.scenario, { nodes: { name: node }, deadlineMs: DRAIN_DEADLINE, mustComplete: true, allowUnmanaged: true });
}, { provides: (node: string) => [fact.drained(node)] });

when('node {string} is drained, giving up after {duration}', 'When node "node-1" is drained, giving up after 15 s', async function (node: string, deadline: number) {
  await drain(this.scenario, { nodes: { name: node }, deadlineMs: deadline, mustComplete: false });
}, { provides: (node: string) => [fact.drained(node)] });

when('the nodes in zone {string} are drained one after another', 'When the nodes in zone "a" are drained one after another', async function (zone: string) {
  await drain(this.scenario, { nodes: { zone }, deadlineMs: DRAIN_DEADLINE, mustComplete: true });
}, { provides: () => [fact.zoneDrained] });

when('the nodes in zone {string} are drained at once', 'When the nodes in zone "b" are drained at once', async function (zone: string) {
  await drain(this.scenario, { nodes: { zone }, deadlineMs: DRAIN_DEADLINE, mustComplete: true, atOnce: true });
}, { provides: () => [fact.zoneDrained] });

when('node {string} is tainted {string}', 'When node "node-1" is tainted "dedicated=db:NoExecute"', async function (node: string, text: string) {
  await taint(this.scenario, { name: node }, text);
}, { provides: () => [fact.tainted] });

when('the nodes in zone {string} are tainted {string}', 'When the nodes in zone "c" are tainted "maintenance:NoSchedule"', async function (zone: string, text: string) {
  await taint(this.scenario, { zone }, text);
}, { provides: () => [fact.tainted] });

when('the nodes labelled {string} are tainted {string}', 'When the nodes labelled "kubernetes.io/hostname=node-1" are tainted "dedicated=db:NoExecute"', async function (selector: string, text: string) {
  await taint(this.scenario, { selector }, text);
}, { provides: () => [fact.tainted] });

when('node {string} stops sending heartbeats', 'When node "node-2" stops sending heartbeats', async function (node: string) {
  await nodeDown(this.scenario, node, 'heartbeats');
}, { provides: (node: string) => [fact.down(node)] });

when('node {string} freezes', 'When node "real-1" freezes', async function (node: string) {
  await nodeDown(this.scenario, node, 'freeze');
}, { provides: (node: string) => [fact.down(node)] });

when('node {string} is brought back', 'When node "real-1" is brought back', async function (node: string) {
  await bringNodeBack(this.scenario, node);
}, { requires: (node: string) => need.down(node) });

when('node {string} reports NotReady', 'When node "node-3" reports NotReady', async function (node: string) {
  await nodeDown(this.scenario, node, 'not-ready');
}, { provides: (node: string) => [fact.down(node)] });

then('the drain of node {string} completed within {duration}', 'Then the drain of node "node-1" completed within 60 s', function (node: string, within: number) {
  expectDrainCompletedWithin(this.scenario, node, within);
}, { requires: (node: string) => need.drained(node) });

then(
  'the drain of node {string} was blocked by PodDisruptionBudget {string} for at least {duration}',
  'Then the drain of node "node-1" was blocked by PodDisruptionBudget "api" for at least 1 s',
  function (node: string, pdb: string, ms: number) {
    expectDrainBlocked(this.scenario, node, pdb, { atLeastMs: ms });
  },
  { requires: (node: string) => need.drained(node) },
);

then(
  'the drain of node {string} was blocked by PodDisruptionBudget {string} for at most {duration}',
  'Then the drain of node "node-1" was blocked by PodDisruptionBudget "api" for at most 60 s',
  function (node: string, pdb: string, ms: number) {
    expectDrainBlocked(this.scenario, node, pdb, { atMostMs: ms });
  },
  { requires: (node: string) => need.drained(node) },
);

then('the drain of node {string} gave up, blocked by PodDisruptionBudget {string}', 'Then the drain of node "node-1" gave up, blocked by PodDisruptionBudget "ledger"', function (node: string, pdb: string) {
  expectDrainGaveUp(this.scenario, node, pdb);
}, { requires: (node: string) => need.drained(node) });

then(
  'at no moment were more than {int} pod(s) of {workload} {string} unavailable',
  'Then at no moment were more than 1 pod of deployment "web" unavailable',
  function (n: number, kind: WorkloadKind, name: string) {
    expectMaxUnavailable(this.scenario, { kind, name }, n);
  },
  { requires: (_n: number, kind: WorkloadKind) => need.unavailableInWindow(kind) },
);

then(
  'at one moment at least {int} pod(s) of {workload} {string} were unavailable',
  'Then at one moment at least 2 pods of deployment "api" were unavailable',
  function (n: number, kind: WorkloadKind, name: string) {
    expectUnavailableReached(this.scenario, { kind, name }, n);
  },
  { requires: (_n: number, kind: WorkloadKind) => need.unavailableInWindow(kind) },
);

then('PodDisruptionBudget {string} never allowed a negative number of disruptions', 'Then PodDisruptionBudget "api" never allowed a negative number of disruptions', function (pdb: string) {
  expectPdbNeverNegative(this.scenario, pdb);
}, { requires: () => need.windowOpen() });

then(
  'the pods of {workload} {string} left node {string} between {duration} and {duration} after the taint',
  'Then the pods of deployment "tolerates-5s" left node "node-1" between 4 s and 12 s after the taint',
  async function (kind: WorkloadKind, name: string, node: string, min: number, max: number) {
    await expectEvictionDelay(this.scenario, { kind, name }, node, min, max);
  },
  { requires: () => need.tainted() },
);

then('within {duration} node {string} is {nodeCondition}', 'Then within 30 s node "node-3" is NotReady', async function (within: number, node: string, status: 'True' | 'NotTrue' | 'Unknown') {
  await expectWithin(this.scenario, nodeReady(this.scenario.timeline, node, status), within);
});

then('within {duration} the pods of node {string} are replaced on other nodes', 'Then within 60 s the pods of node "node-2" are replaced on other nodes', async function (within: number, node: string) {
  await expectNodeReplaced(this.scenario, node, within);
}, { requires: (_within: number, node: string) => need.down(node) });
