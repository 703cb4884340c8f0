/**
 * A container kill is a fault of the scenario: it goes through the pipeline (timeline mark,
 * the scenario's fault list — what summary.json's `data.faults` is — and the fault window),
 * with nothing to undo; the cluster's container runtime part does the kill. In plan mode it is
 * reported and the runtime is not called.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, NS, pod, workload } from './fake-cluster.js';
import { Scenario } from '../../src/scenario/scenario.js';
import { killContainers } from '../../src/faults/container-kill.js';
import { windowOf } from '../../src/expect/window.js';
import { FAULT_ACTIONS } from '../../src/expect/expect.js';
import { FAULT_NAMES } from '../../src/faults/fault.js';
import { FAST_TIMINGS, type ClusterParts, type ContainerRuntime } from '../../src/cluster/providers/provider.js';
import type { Pod } from '../../src/kube/types.js';

const web = { kind: 'Deployment' as const, name: 'web' };

async function scenarioWithRuntime(planOnly = false) {
  const cluster = new FakeCluster();
  const kills: string[] = [];
  const runtime: ContainerRuntime = {
    refuse: () => undefined,
    kill: async (p: Pod, container: string, id: string) => void kills.push(`${p.metadata?.name}/${container}/${id}`),
  };
  const info = { kind: 'kind' as const, name: 'k', context: 'kind-k', serverVersion: 'v1.37.0', timings: FAST_TIMINGS, capabilities: { realContainers: true, realNodes: ['node-1'], canStopNode: true, readinessMechanism: 'app-endpoint' as const, metricsSource: 'kubelet' as const, simulatedNodes: false, othersChangeNodes: false }, nodes: ['node-1'] };
  const s = new Scenario(cluster.asKube(), info, { containerRuntime: runtime } as unknown as ClusterParts, 'run-ck', NS, '.');
  s.planOnly = planOnly;
  await s.timeline.start();
  cluster.apply(workload('Deployment', 'web', { replicas: 1 }, { replicas: 1, readyReplicas: 1 }));
  const p = pod('web-1', { app: 'web' });
  p.status!.containerStatuses = [{ name: 'c', image: 'fake', imageID: '', ready: true, restartCount: 0, containerID: 'containerd://abc123', state: { running: {} } }];
  cluster.apply(p);
  return { s, kills };
}

describe('a container kill is a fault', () => {
  it('appears in the scenario\'s faults (summary.json data.faults) with nothing to undo, and opens the fault window', async () => {
    const { s, kills } = await scenarioWithRuntime();
    await killContainers(s, web, { count: 1 }, 7);
    assert.deepEqual(kills, ['web-1/c/abc123']);
    const faults = s.data().faults;
    assert.deepEqual(faults.map((f) => [f.type, f.target, f.revert]), [['kill container', 'Pod/web-1', 'none']]);
    assert.match(faults[0]!.detail ?? '', /SIGKILL to container c .*restarting it is the kubelet's job/);
    assert.ok(s.timeline.entries.some((e) => e.source === 'harness' && e.action === 'kill container'));
    assert.match(windowOf(s).what, /the first fault \(kill container\)/);
    await s.timeline.stop();
  });

  it('a kill marked on the timeline alone opens the window too: every fault name is a window action', async () => {
    const { s } = await scenarioWithRuntime();
    s.timeline.mark('kill container', 'Pod/web-1: SIGKILL to container c');
    assert.match(windowOf(s).what, /the first change \(kill container: Pod\/web-1/);
    for (const name of FAULT_NAMES) assert.ok(FAULT_ACTIONS.has(name), `${name} opens no window`);
    await s.timeline.stop();
  });

  it('in plan mode it is reported, and the runtime is not called', async () => {
    const { s, kills } = await scenarioWithRuntime(true);
    await killContainers(s, web, { count: 1 }, 7);
    assert.deepEqual(kills, []);
    assert.deepEqual(s.faults, []);
    assert.match(s.plans.join('\n'), /kill the container process of 1 of 1 Ready pod\(s\) of deployment web: web-1 \(seed 7\)/);
    await s.timeline.stop();
  });
});
