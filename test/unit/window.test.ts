/**
 * Windows: an "at no moment" claim never covers the initial rollout; a scale, an image change, a
 * patch or a kill opens the window like a fault does; "From now on" opens it explicitly, and its
 * claim, judged when the steps are done, fails with the moment it broke.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario, pod, workload } from './fake-cluster.js';
import { windowOf, judgeWindowClaims } from '../../src/expect/window.js';
import { fromNowOnMaxUnavailable } from '../../src/expect/from-now-on.js';
import { expectMaxUnavailable } from '../../src/expect/faults.js';

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
    assert.throws(() => windowOf(s), /no window: nothing in this scenario opened one .* its start would count the initial rollout/);
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
