/**
 * Every answer of the Eviction API as a step expects it, each claim made false: the step
 * fails with the answer it got (status, message, the budget named and the budgets selecting
 * the pod); and a drain's answers per pod, as the drain recorded them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario, pod, workload } from './fake-cluster.js';
import { expectDrainAnswered, expectDrainAnsweredForPod, expectEvictionAnswer } from '../../src/expect/eviction-answers.js';
import { answerMatches, type EvictionAnswer } from '../../src/faults/eviction-answer.js';
import { DRAINS, type PodEviction } from '../../src/faults/drain.js';
import { BadInputError } from '../../src/errors.js';
import type { KubeObject } from '../../src/kube/types.js';

function pdb(name: string, selector: Record<string, string>): KubeObject {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, generation: 1 }, spec: { maxUnavailable: 1, selector: { matchLabels: selector } }, status: { observedGeneration: 1, currentHealthy: 2, desiredHealthy: 1, disruptionsAllowed: 1 } } as KubeObject;
}

async function shared() {
  const cluster = new FakeCluster();
  const s = await fakeScenario(cluster);
  cluster.apply(workload('Deployment', 'shared', { replicas: 2 }, { observedGeneration: 1, replicas: 2, readyReplicas: 2 }));
  for (const i of [1, 2]) cluster.apply(pod(`shared-${i}`, { app: 'shared', tier: 'backend' }));
  cluster.apply(pdb('by-app', { app: 'shared' }));
  cluster.apply(pdb('by-tier', { tier: 'backend' }));
  return { cluster, s, w: { kind: 'Deployment' as const, name: 'shared' } };
}

describe('eviction answers', () => {
  it('"answered with 201" fails on a 500 (two budgets), naming both budgets that select the pod', async () => {
    const { cluster, s, w } = await shared();
    cluster.evictionAnswer = () => 500;
    await assert.rejects(expectEvictionAnswer(s, { workload: w }, 201), /expected 201\/200 \(allowed\), answered 500 InternalError: This pod has more than one PodDisruptionBudget.*selected by PodDisruptionBudget by-app, by-tier/);
    await expectEvictionAnswer(s, { workload: w }, 500);
  });

  it('"answered with 500" fails on an allowed eviction', async () => {
    const { cluster, s, w } = await shared();
    cluster.evictionAnswer = () => 201;
    await assert.rejects(expectEvictionAnswer(s, { workload: w }, 500), /expected 500, answered 201: allowed/);
    await expectEvictionAnswer(s, { workload: w }, 200);
  });

  it('"429 naming PodDisruptionBudget by-tier" fails when the 429 names another budget', async () => {
    const { cluster, s, w } = await shared();
    cluster.evictionAnswer = () => 429;
    cluster.evictionBudget = 'by-app';
    await assert.rejects(expectEvictionAnswer(s, { workload: w }, 429, 'by-tier'), /expected 429 naming PodDisruptionBudget by-tier, answered 429 TooManyRequests: .*budget by-app/);
    await expectEvictionAnswer(s, { workload: w }, 429, 'by-app');
  });

  it('"evicting pod P is answered with 404": a pod never seen is refused, a pod that is there is not 404', async () => {
    const { cluster, s } = await shared();
    await assert.rejects(expectEvictionAnswer(s, { pod: 'ghost' }, 404), BadInputError);
    assert.deepEqual(cluster.evictions, [], 'nothing asked for a pod that never existed');
    await assert.rejects(expectEvictionAnswer(s, { pod: 'shared-1' }, 404), /expected 404, answered 201/);
    cluster.remove('Pod', 'shared-2');
    cluster.evictionAnswer = (p) => (cluster.get('Pod', p) ? 201 : 404);
    await expectEvictionAnswer(s, { pod: 'shared-2' }, 404);
  });

  it('"evicting the oldest pod of W is answered with 429 naming B": per pod, and false when that pod is answered otherwise', async () => {
    const { cluster, s } = await shared();
    const oldest = { place: 'oldest' as const, workload: { kind: 'Deployment' as const, name: 'shared' } };
    cluster.evictionAnswer = (p) => (p === 'shared-1' ? 429 : 201);
    cluster.evictionBudget = 'by-app';
    // Both fake pods have the same (no) creation time: the first by name is the oldest, and it stays the one named.
    await expectEvictionAnswer(s, { designated: oldest }, 429, 'by-app');
    await assert.rejects(expectEvictionAnswer(s, { designated: oldest }, 429, 'by-tier'), /evicting pod shared-1: expected 429 naming PodDisruptionBudget by-tier, answered 429 TooManyRequests/);
    await assert.rejects(expectEvictionAnswer(s, { designated: { name: 'shared-2' } }, 429, 'by-app'), /evicting pod shared-2: expected 429 naming PodDisruptionBudget by-app, answered 201: allowed/);
    assert.deepEqual(cluster.evictions.map((e) => e.pod), ['shared-1', 'shared-1', 'shared-2']);
  });

  it('200 and 201 both mean allowed; a refusal matches only its own status', () => {
    const a = (status: number): EvictionAnswer => ({ pod: 'p', namespace: 'n', at: 0, status, message: '', named: [], selecting: [] });
    assert.equal(answerMatches(a(200), 201), true);
    assert.equal(answerMatches(a(201), 200), true);
    assert.equal(answerMatches(a(429), 500), false);
    assert.equal(answerMatches(a(404), 201), false);
  });
});

describe("a drain's answers per pod", () => {
  const answered = (pod: string, status: number, named: string[] = []): PodEviction => ({
    pod,
    namespace: 'kp-test',
    refusals: status === 429 ? 1 : 0,
    blockedBy: named,
    labels: { app: 'shared', tier: 'backend' },
    answers: [{ pod, namespace: 'kp-test', at: 0, status, message: status === 500 ? 'This pod has more than one PodDisruptionBudget' : 'Cannot evict pod', named, selecting: ['by-app', 'by-tier'], times: 3 }],
  });

  it('"answered with 500 for 2 pods" fails when one of them was answered 429, saying what each got', async () => {
    const { s, w } = await shared();
    s.state(DRAINS).set('node-1', { node: 'node-1', startedAt: 0, evictions: [answered('shared-1', 500), answered('shared-2', 429, ['by-app'])] });
    assert.throws(() => expectDrainAnswered(s, 'node-1', w, { op: 'exactly', n: 2 }, 500), /got it for 1 \(shared-1: 500: This pod has more.* ×3; shared-2: 429: Cannot evict pod \(budget by-app;/);
    expectDrainAnswered(s, 'node-1', w, { op: 'exactly', n: 1 }, 500);
    expectDrainAnswered(s, 'node-1', w, { op: 'exactly', n: 1 }, 429, 'by-app');
    assert.throws(() => expectDrainAnswered(s, 'node-1', w, { op: 'exactly', n: 1 }, 429, 'by-tier'), /got it for 0/);
  });

  it('"the drain was answered with 429 naming B for pod P": false for a pod answered 500, and for a pod the drain never asked', async () => {
    const { s } = await shared();
    s.state(DRAINS).set('node-1', { node: 'node-1', startedAt: 0, evictions: [answered('shared-1', 500), answered('shared-2', 429, ['by-app'])] });
    expectDrainAnsweredForPod(s, 'node-1', { name: 'shared-2' }, 429, 'by-app');
    expectDrainAnsweredForPod(s, 'node-1', { name: 'shared-1' }, 500);
    assert.throws(() => expectDrainAnsweredForPod(s, 'node-1', { name: 'shared-1' }, 429, 'by-app'), /the drain of node node-1: expected 429 naming PodDisruptionBudget by-app for pod shared-1, answered 500: This pod has more than one PodDisruptionBudget.* ×3/);
    assert.throws(() => expectDrainAnsweredForPod(s, 'node-1', { name: 'shared-2' }, 429, 'by-tier'), /expected 429 naming PodDisruptionBudget by-tier for pod shared-2, answered 429/);
    assert.throws(() => expectDrainAnsweredForPod(s, 'node-1', { place: 'oldest', workload: { kind: 'Deployment', name: 'shared' } }, 201), /expected 201\/200 \(allowed\) for the oldest pod of deployment shared \(shared-1\), answered 500/);
    assert.throws(() => expectDrainAnsweredForPod(s, 'node-1', { name: 'elsewhere' }, 201), /did not try to evict pod elsewhere: it was not on the node \(the drain asked for shared-1, shared-2\)/);
    assert.throws(() => expectDrainAnsweredForPod(s, 'node-2', { name: 'shared-1' }, 500), BadInputError);
  });

  it('a node not drained is bad input', async () => {
    const { s, w } = await shared();
    assert.throws(() => expectDrainAnswered(s, 'node-2', w, { op: 'exactly', n: 1 }, 500), BadInputError);
  });
});
