/**
 * Windows: an "at no moment" claim never covers the initial rollout; a scale, an image change, a
 * patch or a kill opens the window like a fault does; "From now on" opens it explicitly, and its
 * claim, judged when the steps are done, fails with the moment it broke. Every whole-scenario
 * claim has a "from now on" form; each fails when the claim is false after its step.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario, pod, workload } from './fake-cluster.js';
import { windowOf, judgeWindowClaims } from '../../src/expect/window.js';
import { fromNowOnAvailability, fromNowOnMaxUnavailable, fromNowOnNeverAboveMax, fromNowOnNoOutageLongerThan, fromNowOnPdbNeverNegative, fromNowOnReadyEndpoints } from '../../src/expect/from-now-on.js';
import { expectReadyEndpointsAlways } from '../../src/expect/availability.js';
import { AvailabilityProbe, AVAILABILITY_PROBES } from '../../src/probes/availability.js';
import { setImage, patchObject } from '../../src/workload/change.js';
import { killPods } from '../../src/faults/pod-kill.js';
import type { Scenario } from '../../src/scenario/scenario.js';
import type { KubeObject } from '../../src/kube/types.js';
import { expectMaxUnavailable } from '../../src/expect/faults.js';
import { BadInputError } from '../../src/errors.js';

const web = { kind: 'Deployment' as const, name: 'web' };

async function rolledOut() {
  const cluster = new FakeCluster();
  const s = await fakeScenario(cluster);
  // The initial rollout: 3 wanted, none Ready, then all three.
  cluster.apply(workload('Deployment', 'web', { replicas: 3 }, { replicas: 3, readyReplicas: 0 }));
  for (const n of [1, 2, 3]) cluster.apply(pod(`web-${n}`, { app: 'web' }, { ready: false }));
  for (const n of [1, 2, 3]) cluster.apply(pod(`web-${n}`, { app: 'web' }));
  return { cluster, s };
}

describe('windows', () => {
  it('nothing opened a window: refused, rather than counting the initial rollout', async () => {
    const { s } = await rolledOut();
    // Bad input (exit 2), as `kubeproof check` says before a run: not a failed claim (exit 1).
    assert.throws(() => windowOf(s), (err: unknown) => err instanceof BadInputError && /no window: nothing in this scenario opened one .* its start would count the initial rollout/.test(err.message));
    assert.throws(() => expectMaxUnavailable(s, web, 1), BadInputError);
  });

  it('a scale opens the window: the initial rollout is outside it', async () => {
    const { cluster, s } = await rolledOut();
    s.timeline.mark('scale', 'deployment web to 5');
    cluster.apply(workload('Deployment', 'web', { replicas: 5 }, { replicas: 5, readyReplicas: 3 }));
    assert.match(windowOf(s).what, /the first change \(scale: deployment web to 5\)/);
    expectMaxUnavailable(s, web, 2);
    assert.throws(() => expectMaxUnavailable(s, web, 1), /2 pods of deployment web were unavailable at once, \d+ ms after the first change \(scale/);
  });

  it('"from now on" opens the window at the step; a pod lost after it breaks the claim', async () => {
    const { cluster, s } = await rolledOut();
    s.fault('kill pods');
    cluster.apply(pod('web-1', { app: 'web' }, { ready: false }));
    cluster.apply(pod('web-1', { app: 'web' }));
    fromNowOnMaxUnavailable(s, web, 0, 'features/x.feature:7');
    assert.match(windowOf(s).what, /"from now on"/);
    assert.deepEqual(judgeWindowClaims(s), [], 'nothing unavailable since the step');
    cluster.apply(pod('web-2', { app: 'web' }, { ready: false }));
    const failures = judgeWindowClaims(s);
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /^features\/x\.feature:7: from now on, at no moment are more than 0 pod\(s\) of deployment web unavailable: 1 pods of deployment web were unavailable at once, \d+ ms after "from now on" at features\/x\.feature:7/);
  });
});

/** The writes the changes make, applied to the fake cluster as the API server would (a new resourceVersion the watch sees). */
function writable(cluster: FakeCluster, s: Scenario): void {
  const merge = (a: unknown, b: unknown): unknown => {
    if (b === null || typeof b !== 'object' || Array.isArray(b) || a === null || typeof a !== 'object' || Array.isArray(a)) return b;
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b)) {
      if (v === null) delete out[k];
      else out[k] = merge(out[k], v);
    }
    return out;
  };
  Object.assign(s, {
    ledger: { injecting: <T>(f: () => Promise<T>) => f() },
    kube: {
      ...s.kube,
      get: async (kind: string, name: string) => structuredClone(cluster.get(kind, name)),
      mergePatch: async (kind: string, name: string, _ns: string, patch: object) => cluster.apply(merge(cluster.get(kind, name), patch) as KubeObject),
      jsonPatch: async (kind: string, name: string, _ns: string, ops: Array<{ op: string; path: string; value: unknown }>) => {
        const obj = structuredClone(cluster.get(kind, name)) as Record<string, unknown>;
        for (const op of ops) {
          assert.equal(op.op, 'replace');
          const keys = op.path.split('/').slice(1);
          let at = obj as Record<string, unknown>;
          for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
          at[keys.at(-1)!] = op.value;
        }
        return cluster.apply(obj as KubeObject);
      },
      // A kill: the pod is terminating at once (its grace period runs), as the API server answers a delete.
      delete: async (_kind: string, name: string) => void cluster.apply(pod(name, { app: 'web' }, { terminating: true, ready: false })),
    },
  });
}

describe('windows opened by image changes, patches and kills', () => {
  it('an image change opens the window: the rollout it starts counts, the initial rollout does not', async () => {
    const { cluster, s } = await rolledOut();
    writable(cluster, s);
    cluster.apply(workload('Deployment', 'web', { replicas: 3, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'kubeproof.local/testapp:1' }] } } }, { replicas: 3, readyReplicas: 3 }));
    await setImage(s, web, 'kubeproof.local/testapp:2');
    assert.equal(cluster.get<KubeObject & { spec: { template: { spec: { containers: Array<{ image: string }> } } } }>('Deployment', 'web')?.spec.template.spec.containers[0]?.image, 'kubeproof.local/testapp:2');
    assert.match(windowOf(s).what, /the first change \(set image: deployment web → kubeproof\.local\/testapp:2\)/);
    expectMaxUnavailable(s, web, 0);
    cluster.apply(pod('web-1', { app: 'web' }, { terminating: true, ready: false }));
    expectMaxUnavailable(s, web, 1);
    assert.throws(() => expectMaxUnavailable(s, web, 0), /1 pods of deployment web were unavailable at once, \d+ ms after the first change \(set image/);
    await s.timeline.stop();
  });

  it('a patch of the scenario\'s own workload opens the window', async () => {
    const { cluster, s } = await rolledOut();
    writable(cluster, s);
    await patchObject(s, 'deployment', 'web', { spec: { template: { metadata: { labels: { app: 'web', tier: 'front' } } } } });
    assert.equal(cluster.get<{ spec: { template: { metadata: { labels: Record<string, string> } } } } & KubeObject>('Deployment', 'web')?.spec.template.metadata.labels.tier, 'front');
    assert.match(windowOf(s).what, /the first change \(patch: Deployment\/web: /);
    expectMaxUnavailable(s, web, 0);
    cluster.apply(pod('web-2', { app: 'web' }, { ready: false }));
    assert.throws(() => expectMaxUnavailable(s, web, 0), /1 pods of deployment web were unavailable at once, \d+ ms after the first change \(patch/);
    await s.timeline.stop();
  });

  it('a kill opens the window: the killed pod counts, the initial rollout does not', async () => {
    const { cluster, s } = await rolledOut();
    writable(cluster, s);
    await killPods(s, { workload: web }, { victims: ['web-3'], seed: 1, of: 3 });
    assert.match(windowOf(s).what, /the first fault \(kill pods\)/);
    expectMaxUnavailable(s, web, 1);
    assert.throws(() => expectMaxUnavailable(s, web, 0), /1 pods of deployment web were unavailable at once, \d+ ms after the first fault \(kill pods\)/);
    await s.timeline.stop();
  });
});

describe('"from now on" forms of the whole-scenario claims', () => {
  it('a PodDisruptionBudget: negative before the step does not count, after it the claim fails', async () => {
    const { cluster, s } = await rolledOut();
    const pdb = (allowed: number) => cluster.apply({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 2 }, status: { disruptionsAllowed: allowed, currentHealthy: 2 + allowed, desiredHealthy: 2 } } as KubeObject);
    pdb(-1);
    pdb(1);
    fromNowOnPdbNeverNegative(s, 'web', 'features/x.feature:9');
    assert.deepEqual(judgeWindowClaims(s), []);
    pdb(-1);
    const failures = judgeWindowClaims(s);
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /^features\/x\.feature:9: from now on, PodDisruptionBudget web never allows a negative number of disruptions: PodDisruptionBudget web reported disruptionsAllowed -1, \d+ ms after "from now on" at features\/x\.feature:9/);
    await s.timeline.stop();
  });

  it('an HPA: over its maximum after the step fails the claim, with the replicas it reached', async () => {
    const { cluster, s } = await rolledOut();
    const hpa = (current: number, desired: number) => cluster.apply({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'shop' }, spec: { minReplicas: 2, maxReplicas: 4, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' } }, status: { currentReplicas: current, desiredReplicas: desired } } as KubeObject);
    hpa(3, 3);
    fromNowOnNeverAboveMax(s, 'shop', 'features/x.feature:11');
    assert.deepEqual(judgeWindowClaims(s), []);
    cluster.apply(workload('Deployment', 'web', { replicas: 5 }, { replicas: 5, readyReplicas: 3 }));
    const failures = judgeWindowClaims(s);
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /^features\/x\.feature:11: from now on, HPA shop never exceeds its maximum replicas: HPA shop went to 5 replicas, above its maximum 4 \(Deployment web: .*after "from now on" at features\/x\.feature:11\)/);
    await s.timeline.stop();
  });

  it('a Service\'s ready endpoints, availability and outages: an outage before the step does not count, one after it fails each claim', async () => {
    const { cluster, s } = await rolledOut();
    cluster.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' } } } as KubeObject);
    const slice = (ready: number) =>
      cluster.apply({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-x', labels: { 'kubernetes.io/service-name': 'web' } }, endpoints: [1, 2, 3].map((n) => ({ addresses: [`10.0.0.${n}`], targetRef: { kind: 'Pod', name: `web-${n}` }, conditions: { ready: n <= ready } })) } as KubeObject);
    slice(3);
    const probe = new AvailabilityProbe(s.timeline, 'web');
    await probe.start(1000);
    s.state(AVAILABILITY_PROBES).set('web', probe);
    // An outage before the window: the whole-measurement claims see it, the "from now on" ones do not.
    slice(0);
    slice(3);
    assert.throws(() => expectReadyEndpointsAlways(s, 'web', 2), /service web had only 0 ready endpoint\(s\) at one moment, fewer than 2/);
    fromNowOnReadyEndpoints(s, 'web', 2, 'features/x.feature:20');
    fromNowOnAvailability(s, 'web', 100, 'features/x.feature:21');
    fromNowOnNoOutageLongerThan(s, 'web', 0, 'features/x.feature:22');
    assert.deepEqual(judgeWindowClaims(s), []);
    slice(1);
    slice(0);
    slice(3);
    const failures = judgeWindowClaims(s);
    assert.equal(failures.length, 3, failures.join('\n'));
    assert.match(failures[0]!, /^features\/x\.feature:20: from now on, service web has at least 2 ready endpoints at every moment: service web had only 0 ready endpoint\(s\) at one moment, fewer than 2/);
    assert.match(failures[1]!, /^features\/x\.feature:21: from now on, availability of service web stays ≥ 100 %: service web was available \d+\.\d+ % of the time, less than 100 %/);
    assert.match(failures[2]!, /^features\/x\.feature:22: from now on, service web has no outage longer than 0 ms: service web had an outage of /);
    await probe.stop();
    await s.timeline.stop();
  });
});
