import './pod-parameters.js';
import { step } from './vocabulary.js';
import { expectNow, expectThroughout, expectWithin } from '../src/expect/expect.js';
import { expectOrderedStart, expectUnorderedStart, podIs, podOnNode, podReplaced, podRestarts, podStays } from '../src/expect/pod.js';
import { killOnePod } from '../src/faults/kill-one-pod.js';
import type { PodDesignator } from '../src/workload/pod-designator.js';
import type { PodState } from '../src/workload/pods.js';
import type { Amount } from '../src/expect/amount.js';
import { fact } from './needs.js';

const { when, then } = step('one pod');

when('{pod} is killed', 'When the oldest pod of deployment "web" is killed', async function (pod: PodDesignator) {
  await killOnePod(this.scenario, pod);
}, { provides: (pod: PodDesignator) => ('name' in pod ? [fact.podKilled(pod.name)] : []) });

then('within {duration} {pod} is {podState}', 'Then within 30 s pod "solo" is Running', async function (within: number, pod: PodDesignator, state: PodState) {
  await expectWithin(this.scenario, podIs(this.scenario, pod, state), within);
});

then('{pod} is now {podState}', 'Then the oldest pod of statefulset "ordered" is now Ready', async function (pod: PodDesignator, state: PodState) {
  await expectNow(podIs(this.scenario, pod, state));
});

then('within {duration} {pod} runs on node {string}', 'Then within 30 s pod "solo" runs on node "node-1"', async function (within: number, pod: PodDesignator, node: string) {
  await expectWithin(this.scenario, podOnNode(this.scenario, pod, node), within);
});

then('within {duration} {pod} has {amount} restart(s)', 'Then within 5 s pod "solo" has no restarts', async function (within: number, pod: PodDesignator, amount: Amount) {
  await expectWithin(this.scenario, podRestarts(this.scenario, pod, amount), within);
});

then('for {duration} {pod} stays {podState}', 'Then for 2 s the oldest pod of deployment "web" stays Running', async function (forMs: number, pod: PodDesignator, state: PodState) {
  await expectThroughout(this.scenario, podStays(this.scenario, pod, state), forMs);
});

then('within {duration} {pod} is replaced', 'Then within 30 s the oldest pod of deployment "web" is replaced', async function (within: number, pod: PodDesignator) {
  await expectWithin(this.scenario, podReplaced(this.scenario, pod, false), within);
});

then('within {duration} {pod} comes back with the same name', 'Then within 30 s pod "ordered-1" comes back with the same name', async function (within: number, pod: PodDesignator) {
  await expectWithin(this.scenario, podReplaced(this.scenario, pod, true), within);
});

then(
  'statefulset {string} started its pods in order, each Ready before the next was created',
  'Then statefulset "ordered" started its pods in order, each Ready before the next was created',
  function (name: string) {
    expectOrderedStart(this.scenario, name);
  },
);

then('statefulset {string} created a pod before the one before it was Ready', 'Then statefulset "db" created a pod before the one before it was Ready', function (name: string) {
  expectUnorderedStart(this.scenario, name);
});
