/**
 * The local cluster is real Kubernetes: these tests start one and check, against the real
 * controllers, the behaviours every kubeproof fault relies on. Every wait is a watch
 * condition with a deadline.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { LocalProvider, LocalCluster, localClusterInfo } from '../../src/cluster/providers/local.js';
import { clusterDir } from '../../src/cluster/paths.js';
import { Kube } from '../../src/kube/client.js';
import { Informer } from '../../src/kube/informer.js';
import { ApiError } from '../../src/kube/errors.js';
import { until } from '../../src/wait/until.js';
import { podReady } from '../../src/timeline/timeline.js';
import { KWOK_NODE_LABEL, nodeReadyCondition } from '../../src/cluster/nodes.js';
import type { Pod, Node } from '../../src/kube/types.js';

const ns = 'it';
const name = `it-${randomBytes(2).toString('hex')}`;
let cluster: LocalCluster;
let kube: Kube;
let pods: Informer<Pod>;
let nodes: Informer<Node>;
const log = (l: string) => process.stderr.write(`  [cluster] ${l}\n`);

function deployment(app: string, replicas: number, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app } },
      template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'fake' }], ...extra } },
    },
  };
}

const appPods = (app: string) => pods.list().filter((p) => p.metadata?.labels?.app === app);
const readyLive = (app: string) => appPods(app).filter((p) => podReady(p) && !p.metadata?.deletionTimestamp);

function readyCount(app: string, n: number) {
  return {
    description: `${n} Ready pods of ${app}`,
    sources: [pods],
    evaluate: () => ({ ok: readyLive(app).length === n, observed: `${readyLive(app).length} Ready: ${appPods(app).map((p) => `${p.metadata?.name}@${p.spec?.nodeName ?? '-'}`).join(' ')}` }),
  };
}

describe('local cluster (real control plane, KWOK nodes)', { timeout: 300_000 }, () => {
  before(async () => {
    cluster = await new LocalProvider().up({ name, nodes: 3, zones: ['a', 'b', 'c'], log });
    kube = Kube.fromKubeconfig(cluster.kubeconfigPath);
    pods = new Informer<Pod>(kube, 'Pod', { namespace: ns });
    nodes = new Informer<Node>(kube, 'Node');
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await Promise.all([pods.start(), nodes.start()]);
  });

  after(async () => {
    await pods?.stop();
    await nodes?.stop();
    await cluster?.down();
    const info = await localClusterInfo(name);
    assert.equal(info, undefined, 'cluster still listed after down');
    assert.equal(existsSync(clusterDir(name)), false, 'work dir left behind');
  });

  it('reports the upstream version and 3 Ready KWOK nodes in 3 zones', async () => {
    assert.equal(cluster.serverVersion, 'v1.37.2');
    const ready = nodes.list().filter((n) => nodeReadyCondition(n) === 'True');
    assert.equal(ready.length, 3);
    assert.deepEqual(ready.map((n) => n.metadata?.labels?.['topology.kubernetes.io/zone']).sort(), ['a', 'b', 'c']);
  });

  it('schedules a Deployment onto KWOK nodes and its pods become Ready', async () => {
    await kube.create(deployment('web', 3));
    await until(readyCount('web', 3), { within: 30_000 });
    assert.ok(readyLive('web').every((p) => p.spec?.nodeName?.startsWith('node-')));
  });

  it('the ReplicaSet replaces a deleted pod', async () => {
    const victim = readyLive('web')[0]!.metadata!.name!;
    await kube.delete('Pod', victim, ns);
    await until(
      { description: 'a replacement pod Ready', sources: [pods], evaluate: () => ({ ok: readyLive('web').length === 3 && !readyLive('web').some((p) => p.metadata?.name === victim), observed: readyLive('web').map((p) => p.metadata?.name).join(' ') }) },
      { within: 30_000 },
    );
  });

  it('the Eviction API refuses (429) an eviction an exhausted PodDisruptionBudget forbids', async () => {
    await kube.create({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: ns }, spec: { minAvailable: 3, selector: { matchLabels: { app: 'web' } } } });
    const pdbs = new Informer(kube, 'PodDisruptionBudget', { namespace: ns });
    await until(
      { description: 'PDB observed by the disruption controller', sources: [pdbs], evaluate: () => { const p = pdbs.get('web', ns) as { status?: { currentHealthy?: number; observedGeneration?: number } } | undefined; return { ok: (p?.status?.currentHealthy ?? 0) === 3, observed: JSON.stringify(p?.status ?? {}) }; } },
      { within: 30_000 },
    );
    await pdbs.stop();
    const victim = readyLive('web')[0]!.metadata!.name!;
    await assert.rejects(kube.evict(victim, ns), (err: unknown) => err instanceof ApiError && err.status === 429 && /disruption budget/i.test(err.message));
  });

  it('a NoExecute taint evicts a pod without a toleration', async () => {
    await kube.create(deployment('solo', 1, { nodeSelector: { 'kubernetes.io/hostname': 'node-2' } }));
    await until(readyCount('solo', 1), { within: 30_000 });
    const victim = readyLive('solo')[0]!.metadata!.name!;
    const taint = { key: 'kubeproof.io/test', value: 'x', effect: 'NoExecute' };
    await kube.mergePatch('Node', 'node-2', undefined, { spec: { taints: [taint] } });
    try {
      await until({ description: `${victim} evicted`, sources: [pods], evaluate: () => { const p = pods.get(victim, ns); return { ok: !p || Boolean(p.metadata?.deletionTimestamp), observed: p ? 'still running' : 'gone' }; } }, { within: 30_000 });
    } finally {
      await kube.mergePatch('Node', 'node-2', undefined, { spec: { taints: null } });
    }
  });

  it('a node whose heartbeats stop becomes Unknown through the node-lifecycle controller', async () => {
    const grace = cluster.timings.nodeMonitorGracePeriodSeconds * 1000;
    // kwok renews the Lease only of nodes carrying its label: take it away.
    await kube.mergePatch('Node', 'node-3', undefined, { metadata: { labels: { [KWOK_NODE_LABEL]: null } } });
    try {
      const out = await until(
        { description: 'node-3 Ready=Unknown', sources: [nodes], evaluate: () => ({ ok: nodeReadyCondition(nodes.get('node-3')) === 'Unknown', observed: `Ready=${nodeReadyCondition(nodes.get('node-3'))}` }) },
        { within: grace + 30_000 },
      );
      log(`node-3 Unknown ${(out.elapsedMs / 1000).toFixed(1)} s after its heartbeats stopped (grace ${grace / 1000} s)`);
      const unreachable = () => nodes.get('node-3')?.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') ?? false;
      await until({ description: 'node-3 tainted unreachable:NoExecute', sources: [nodes], evaluate: () => ({ ok: unreachable(), observed: JSON.stringify(nodes.get('node-3')?.spec?.taints ?? []) }) }, { within: 30_000 });
    } finally {
      await kube.mergePatch('Node', 'node-3', undefined, { metadata: { labels: { [KWOK_NODE_LABEL]: 'fake' } } });
    }
    await until({ description: 'node-3 Ready again', sources: [nodes], evaluate: () => ({ ok: nodeReadyCondition(nodes.get('node-3')) === 'True' && !nodes.get('node-3')?.spec?.taints?.length, observed: `Ready=${nodeReadyCondition(nodes.get('node-3'))} taints=${JSON.stringify(nodes.get('node-3')?.spec?.taints ?? [])}` }) }, { within: 30_000 });
  });

  it('the readiness stage flips a pod Ready → NotReady → Ready without a restart', async () => {
    const p = readyLive('web')[0]!;
    const podName = p.metadata!.name!;
    const isReady = (want: boolean) => ({ description: `${podName} Ready=${want}`, sources: [pods], evaluate: () => ({ ok: podReady(pods.get(podName, ns)) === want, observed: JSON.stringify(pods.get(podName, ns)?.status?.conditions?.map((c) => `${c.type}=${c.status}`)) }) });
    await kube.mergePatch('Pod', podName, ns, { metadata: { labels: { 'kubeproof.io/unready': 'true' } } });
    await until(isReady(false), { within: 10_000 });
    await kube.mergePatch('Pod', podName, ns, { metadata: { labels: { 'kubeproof.io/unready': null } } });
    await until(isReady(true), { within: 10_000 });
    assert.equal(pods.get(podName, ns)?.status?.containerStatuses?.[0]?.restartCount ?? 0, 0);
  });

  it('metrics.k8s.io serves pod CPU usage from the KWOK usage annotation', async () => {
    // metrics-server scrapes every 15 s; the API answers once it has two samples. Waiting on the
    // aggregated API has no watch, so this is the one place a request is repeated: bounded, with backoff.
    const { default: pRetry } = await import('p-retry');
    const list = await pRetry(
      async () => {
        const l = await kube.request<{ items: Array<{ metadata: { name: string }; containers: Array<{ usage: { cpu: string } }> }> }>('GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods`);
        if (!l.items.some((i) => i.metadata.name.startsWith('web-'))) throw new Error('no pod metrics yet');
        return l;
      },
      { retries: 12, minTimeout: 2000, maxTimeout: 8000 },
    );
    assert.ok(list.items.length > 0);
  });
});
