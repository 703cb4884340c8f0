/**
 * Job outcomes and failing containers, each claim made false on the in-memory cluster: the
 * step fails, saying what it saw (the Job's counts and conditions, the containers' states).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario, pod, workload } from './fake-cluster.js';
import { until, ConditionTimeout } from '../../src/wait/until.js';
import { jobCompletes, jobFailedPods, jobFailsWith, JobOutcomeError } from '../../src/expect/job.js';
import { exitedWith, restartedAtLeast, waitingWith } from '../../src/expect/containers.js';
import type { Pod } from '../../src/kube/types.js';

function job(name: string, status: Record<string, unknown>, restartPolicy = 'Never') {
  return workload('Job', name, { backoffLimit: 1, template: { spec: { restartPolicy } } }, status);
}
const failed = (reason: string, n: number) => ({ failed: n, conditions: [{ type: 'FailureTarget', status: 'True', reason }, { type: 'Failed', status: 'True', reason, message: 'Job has reached the specified backoff limit' }] });
const complete = { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] };

/** A pod of workload `app` whose one container is in `state` (and lastState), restarted `restarts` times. */
function withContainer(name: string, app: string, state: Record<string, unknown>, restarts = 0, lastState: Record<string, unknown> = {}, phase = 'Running'): Pod {
  const p = pod(name, { app }, { ready: false, phase });
  p.status!.containerStatuses = [{ name: 'c', image: 'fake', ready: false, restartCount: restarts, state, lastState } as never];
  return p;
}

describe('job outcomes', () => {
  it('"completes" fails at once when the Job failed, naming its reason and counts', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(job('j', { active: 1 }));
    const wait = until(jobCompletes(s.timeline, 'j'), { within: 60_000 });
    cluster.apply(job('j', failed('BackoffLimitExceeded', 2)));
    await assert.rejects(wait, (err: Error) => err instanceof JobOutcomeError && /BackoffLimitExceeded/.test(err.message) && /failed 2/.test(err.message));
  });

  it('"completes" holds on Complete=True', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(job('j', { active: 1 }));
    const wait = until(jobCompletes(s.timeline, 'j'), { within: 5_000 });
    cluster.apply(job('j', complete));
    assert.match((await wait).observed, /succeeded 1/);
  });

  it('"fails with BackoffLimitExceeded" fails at once when the Job completed or failed for another reason', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(job('j', complete));
    assert.throws(() => jobFailsWith(s.timeline, 'j', 'BackoffLimitExceeded').evaluate(), /finished otherwise: succeeded 1.*Complete=True/);
    cluster.apply(job('k', failed('DeadlineExceeded', 1)));
    await assert.rejects(until(jobFailsWith(s.timeline, 'k', 'BackoffLimitExceeded'), { within: 1_000 }), /job k finished otherwise:.*Failed=True \(DeadlineExceeded/);
  });

  it('"fails with" times out on a Job still running, with what it saw, and holds on the reason', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(job('j', { active: 1, failed: 1 }));
    await assert.rejects(until(jobFailsWith(s.timeline, 'j', 'BackoffLimitExceeded'), { within: 50 }), (err: Error) => err instanceof ConditionTimeout && /active 1/.test(err.message) && /failed 1/.test(err.message));
    cluster.apply(job('j', failed('BackoffLimitExceeded', 2)));
    assert.equal(jobFailsWith(s.timeline, 'j', 'BackoffLimitExceeded').evaluate().ok, true);
  });

  it('a Job that never existed does not fail or complete', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    await assert.rejects(until(jobFailsWith(s.timeline, 'nope', 'BackoffLimitExceeded'), { within: 20 }), /job nope does not exist/);
  });

  it('"has 4 failed pods" (the myth for OnFailure) fails when the controller counts 1', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(job('retry', failed('BackoffLimitExceeded', 1), 'OnFailure'));
    const myth = jobFailedPods(s.timeline, 'retry', { op: 'exactly', n: 4 });
    const v = myth.evaluate();
    assert.equal(v.ok, false);
    assert.match(v.observed, /failed 1, .*restartPolicy OnFailure/);
    assert.equal(jobFailedPods(s.timeline, 'retry', { op: 'exactly', n: 1 }).evaluate().ok, true);
  });
});

describe('failing containers', () => {
  it('"waiting with reason CrashLoopBackOff" fails on pods that never started, naming their reason', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(workload('Deployment', 'w', { replicas: 1 }, {}));
    cluster.apply(withContainer('w-1', 'w', { waiting: { reason: 'ImagePullBackOff' } }, 0, {}, 'Pending'));
    const target = { workload: { kind: 'Deployment' as const, name: 'w' } };
    await assert.rejects(until(waitingWith(s.timeline, target, { op: 'exactly', n: 1 }, 'CrashLoopBackOff'), { within: 30 }), /w-1 Pending: c waiting ImagePullBackOff, restarts 0/);
    assert.equal(waitingWith(s.timeline, target, { op: 'exactly', n: 1 }, 'ImagePullBackOff').evaluate().ok, true);
  });

  it('"restarted at least 3 times" waits for restartCount, and fails with the count it saw', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(workload('Deployment', 'w', { replicas: 1 }, {}));
    const crash = (n: number) => withContainer('w-1', 'w', { waiting: { reason: 'CrashLoopBackOff' } }, n, { terminated: { exitCode: 1 } });
    cluster.apply(crash(1));
    const target = { workload: { kind: 'Deployment' as const, name: 'w' } };
    await assert.rejects(until(restartedAtLeast(s.timeline, target, { op: 'exactly', n: 1 }, 3), { within: 30 }), /restarts 1, last exit 1/);
    const wait = until(restartedAtLeast(s.timeline, target, { op: 'exactly', n: 1 }, 3), { within: 5_000 });
    cluster.apply(crash(2));
    cluster.apply(crash(3));
    assert.match((await wait).observed, /restarts 3/);
  });

  it('"exited with code 3" fails on a container that exited 1', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(workload('Job', 'j', {}, {}));
    cluster.apply(withContainer('j-1', 'j', { terminated: { exitCode: 1, reason: 'Error' } }, 0, {}, 'Failed'));
    const target = { workload: { kind: 'Job' as const, name: 'j' } };
    await assert.rejects(until(exitedWith(s.timeline, target, { op: 'at least', n: 1 }, 3), { within: 30 }), /j-1 Failed: c terminated exit 1 \(Error\)/);
    assert.equal(exitedWith(s.timeline, target, { op: 'at least', n: 1 }, 1).evaluate().ok, true);
  });
});
