/**
 * "the kubelet held the killed container in CrashLoopBackOff for at least D", over the
 * in-memory cluster: the step waits (on pod watch events) up to D after the last kill, so it
 * needs no earlier step to have waited for the restart, and it fails when the claim is false —
 * a restart sooner than D, a container that is not in CrashLoopBackOff, a pod replaced.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { FakeCluster, fakeScenario, pod, workload } from './fake-cluster.js';
import { CONTAINER_KILLS, watchKilled, type ContainerKill } from '../../src/faults/container-kill.js';
import { expectBackOff } from '../../src/expect/restarts.js';
import { now } from '../../src/kube/informer.js';
import type { Pod } from '../../src/kube/types.js';

/** Pod app-1 with its container in `state`, restarted `restarts` times. */
function app(state: Record<string, unknown>, restarts: number, uid = 'uid-app-1'): Pod {
  const p = pod('app-1', { app: 'app' }, { ready: Boolean(state.running) });
  p.metadata!.uid = uid;
  p.status!.containerStatuses = [{ name: 'c', image: 'fake', ready: Boolean(state.running), restartCount: restarts, state } as never];
  return p;
}
const running = (restarts: number) => app({ running: { startedAt: new Date().toISOString() } }, restarts);
const backOff = (restarts: number) => app({ waiting: { reason: 'CrashLoopBackOff' } }, restarts);

/** A container killed twice, its first restart seen: what the scenario holds after "killed again as soon as it runs". */
async function killedTwice() {
  const cluster = new FakeCluster();
  const s = await fakeScenario(cluster);
  cluster.apply(workload('Deployment', 'app', { replicas: 1 }, {}));
  cluster.apply(running(0));
  const kill: ContainerKill = { pod: 'app-1', uid: 'uid-app-1', container: 'c', restartsBefore: 0, kills: [], seen: [] };
  watchKilled(s, kill);
  kill.kills.push(now());
  cluster.apply(app({ terminated: { reason: 'Error', exitCode: 137 } }, 0));
  cluster.apply(running(1));
  kill.kills.push(now());
  s.state(CONTAINER_KILLS).push(kill);
  return { cluster, s, kill };
}

describe('the kubelet held the killed container in CrashLoopBackOff for at least D', () => {
  it('waits for the bound when nothing waited before it: still in CrashLoopBackOff D after the kill, it holds', async () => {
    const { cluster, s, kill } = await killedTwice();
    cluster.apply(backOff(1));
    await expectBackOff(s, 300);
    assert.ok(now() - kill.kills[1]! >= 300, 'it judged before the bound');
  });

  it('a restart already seen (an earlier step waited for it), D or more after the kill, in CrashLoopBackOff meanwhile, holds and is measured', async () => {
    const { cluster, s } = await killedTwice();
    cluster.apply(backOff(1));
    await delay(150);
    cluster.apply(running(2));
    await expectBackOff(s, 100);
    const m = s.timeline.measurements.find((x) => x.name.startsWith('back-off of container c of pod app-1'));
    assert.ok(m && m.value >= 150, JSON.stringify(m));
  });

  it('fails when the kubelet restarted the container sooner than D (no back-off held that long)', async () => {
    const { cluster, s } = await killedTwice();
    cluster.apply(backOff(1));
    setTimeout(() => cluster.apply(running(2)), 50);
    await assert.rejects(expectBackOff(s, 2_000), /expected the last restart after ≥ 2\.00 s in CrashLoopBackOff; restart delays [\d.]+ (ms|s), [\d.]+ (ms|s); waiting reasons seen: CrashLoopBackOff/);
  });

  it('fails when the restart came without CrashLoopBackOff, however late', async () => {
    const { cluster, s } = await killedTwice();
    setTimeout(() => cluster.apply(running(2)), 120);
    await assert.rejects(expectBackOff(s, 100), /expected the last restart after ≥ 100 ms in CrashLoopBackOff;.*waiting reasons seen: none|not in CrashLoopBackOff/);
  });

  it('fails when, D after the kill, the container waits for another reason', async () => {
    const { cluster, s } = await killedTwice();
    cluster.apply(app({ waiting: { reason: 'ContainerCreating' } }, 1));
    await assert.rejects(expectBackOff(s, 150), /150 ms after its last kill it is not in CrashLoopBackOff \(now: restartCount \+1, waiting \(ContainerCreating\)/);
  });

  it('fails when the pod was replaced', async () => {
    const { cluster, s } = await killedTwice();
    cluster.remove('Pod', 'app-1');
    cluster.apply(app({ running: {} }, 0, 'uid-other'));
    await assert.rejects(expectBackOff(s, 5_000), /pod app-1 was replaced/);
  });

  it('a container killed once is bad input (back-off needs a second death)', async () => {
    const { s, kill } = await killedTwice();
    kill.kills.pop();
    await assert.rejects(expectBackOff(s, 100), /was killed once; back-off needs a second death/);
  });
});
