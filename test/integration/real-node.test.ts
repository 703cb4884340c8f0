/**
 * A real node (kubelet + containerd + runc + kube-proxy) beside 3 KWOK nodes on the local
 * cluster: real containers, a real HTTP readiness probe, a Service ClusterIP that routes, and
 * a teardown that leaves the host exactly as it found it. Needs root and the distribution's
 * containerd, runc, CNI plugins and iptables; skipped (with the reason printed) without them.
 * Every wait is a watch condition with a deadline; times are printed.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import pRetry from 'p-retry';
import { LocalProvider, LocalCluster } from '../../src/cluster/providers/local.js';
import { clusterDir } from '../../src/cluster/paths.js';
import { Kube } from '../../src/kube/client.js';
import { Informer, now } from '../../src/kube/informer.js';
import { until } from '../../src/wait/until.js';
import { podReady } from '../../src/timeline/timeline.js';
import { NODE_TYPE_LABEL, KWOK_NODE_LABEL, REAL_NODE_TAINT, nodeReadyCondition } from '../../src/cluster/nodes.js';
import { realNodeLayout } from '../../src/cluster/real-node/layout.js';
import { hostSnapshot } from './host-snapshot.js';
import { realNodeSkipReason } from './harness.js';
import { TESTAPP_IMAGE, ensureLocalImages } from '../../src/cluster/build/images.js';
import { imageLoad } from '../../src/cli/image.js';
import { ctr } from '../../src/cluster/real-node/containerd.js';
import { formatDuration } from '../../src/log.js';
import type { EndpointSlice, Node, Pod, Service } from '../../src/kube/types.js';

const say = (l: string) => process.stderr.write(`  [real-node] ${l}\n`);

const skip = await realNodeSkipReason();
if (skip) say(`SKIPPED: ${skip}`);

const name = `rn-${randomBytes(2).toString('hex')}`;
const ns = 'rn';
let cluster: LocalCluster;
let kube: Kube;
let before_: Record<string, string[]>;
let pods: Informer<Pod>;
let slices: Informer<EndpointSlice>;
let nodes: Informer<Node>;
let upMs = 0;

const appPod = () => pods.list().find((p) => p.metadata?.labels?.app === 'web' && !p.metadata?.deletionTimestamp);
const endpointReady = () => slices.list().flatMap((s) => s.endpoints ?? []).map((e) => e.conditions?.ready);

describe('real node beside KWOK nodes', { skip: skip || undefined, timeout: 300_000 }, () => {
  before(async () => {
    await ensureLocalImages({ log: say }); // built before the clock starts: a warm bring-up is what is measured
    before_ = await hostSnapshot();
    const t0 = now();
    cluster = await new LocalProvider().up({ name, nodes: 3, realNodes: 1, log: say });
    upMs = now() - t0;
    kube = Kube.fromKubeconfig(cluster.kubeconfigPath);
    pods = new Informer<Pod>(kube, 'Pod', { namespace: ns });
    slices = new Informer<EndpointSlice>(kube, 'EndpointSlice', { namespace: ns });
    nodes = new Informer<Node>(kube, 'Node');
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await Promise.all([pods.start(), slices.start(), nodes.start()]);
  });

  after(async () => {
    await Promise.all([pods?.stop(), slices?.stop(), nodes?.stop()]);
    if (!cluster) return;
    const t0 = now();
    await cluster.down();
    say(`cluster down in ${formatDuration(now() - t0)}`);
    assert.equal(existsSync(clusterDir(name)), false, 'cluster dir left behind');
    assert.deepEqual(await hostSnapshot(), before_, 'the host differs from before cluster up');
  });

  it('brings up 3 KWOK nodes and 1 real node, all Ready', async () => {
    say(`cluster up (control plane + 3 KWOK + 1 real node) in ${formatDuration(upMs)} (target < 15 s warm)`);
    assert.ok(upMs < 60_000, `bring-up took ${formatDuration(upMs)}`);
    const all = nodes.list();
    assert.deepEqual(all.map((n) => n.metadata!.name).sort(), ['node-1', 'node-2', 'node-3', 'real-1']);
    assert.ok(all.every((n) => nodeReadyCondition(n) === 'True'), 'a node is not Ready');
    const real = nodes.get('real-1')!;
    assert.equal(real.metadata?.labels?.[NODE_TYPE_LABEL], 'real');
    assert.deepEqual(real.spec?.taints, [REAL_NODE_TAINT], 'the real node keeps KWOK workloads off with its taint');
    assert.equal(real.metadata?.labels?.[KWOK_NODE_LABEL], undefined, 'kwok would take the real node over');
    assert.match(real.status?.nodeInfo?.containerRuntimeVersion ?? '', /^containerd:/);
    assert.deepEqual(cluster.capabilities.realNodes, ['real-1']);
    assert.equal(cluster.capabilities.realContainers, true);
  });

  it('runs the test app on the real node, Ready through its HTTP readiness probe', async () => {
    const t0 = now();
    await kube.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            nodeSelector: { [NODE_TYPE_LABEL]: 'real' },
            tolerations: [{ ...REAL_NODE_TAINT }],
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'web',
                image: TESTAPP_IMAGE.ref,
                imagePullPolicy: 'Never',
                ports: [{ containerPort: 8080 }],
                env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
                readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
                livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
                resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '500m', memory: '64Mi' } },
              },
            ],
          },
        },
      },
    });
    await kube.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } });
    const ready = await until(
      { description: 'pod of web Ready on real-1', sources: [pods], evaluate: () => ({ ok: podReady(appPod()), observed: `${appPod()?.metadata?.name ?? 'no pod'} ${appPod()?.status?.phase ?? ''}` }) },
      { within: 60_000, since: t0 },
    );
    say(`apply → pod Ready (HTTP readiness probe, period 1 s): ${formatDuration(ready.elapsedMs)}`);
    assert.equal(appPod()?.spec?.nodeName, 'real-1');
    await until({ description: 'EndpointSlice endpoint ready', sources: [slices], evaluate: () => ({ ok: endpointReady().includes(true), observed: JSON.stringify(endpointReady()) }) }, { within: 10_000 });
  });

  it('serves through the Service ClusterIP from the host (kube-proxy)', async () => {
    const svc = await kube.get<Service>('Service', 'web', ns);
    const url = `http://${svc.spec!.clusterIP}/`;
    const t0 = now();
    // kube-proxy programs the rules within its sync after the EndpointSlice: a bounded retry, the request is the check.
    const body = await pRetry(async () => (await fetch(url, { signal: AbortSignal.timeout(2000) })).text(), { retries: 20, minTimeout: 100, maxTimeout: 500 });
    say(`GET ${url} answered after ${formatDuration(now() - t0)}: ${body.trim()}`);
    assert.match(body, new RegExp(`pod=${appPod()!.metadata!.name}`));
  });

  it('switching readiness off makes the endpoint ready:false, on makes it ready again', async () => {
    const podUrl = `http://${appPod()!.status!.podIP}:8080`;
    let t0 = now();
    assert.equal((await fetch(`${podUrl}/ready/off`, { method: 'POST' })).status, 200);
    const off = await until(
      { description: 'EndpointSlice endpoint ready:false', sources: [slices], evaluate: () => ({ ok: endpointReady().length > 0 && endpointReady().every((r) => r === false), observed: JSON.stringify(endpointReady()) }) },
      { within: 15_000, since: t0 },
    );
    assert.equal(podReady(appPod()), false);
    say(`readiness off → EndpointSlice ready:false in ${formatDuration(off.elapsedMs)}`);
    t0 = now();
    assert.equal((await fetch(`${podUrl}/ready/on`, { method: 'POST' })).status, 200);
    const on = await until(
      { description: 'EndpointSlice endpoint ready again', sources: [slices], evaluate: () => ({ ok: endpointReady().includes(true), observed: JSON.stringify(endpointReady()) }) },
      { within: 15_000, since: t0 },
    );
    say(`readiness on → EndpointSlice ready in ${formatDuration(on.elapsedMs)}`);
  });

  it('loads an image tarball into the real node (kubeproof image load)', async () => {
    const tarball = (await ensureLocalImages({ log: say })).get(TESTAPP_IMAGE)!;
    assert.equal(await imageLoad({ tarball, name: 'kubeproof.local/loaded:test', cluster: name, log: say }), 0);
    const r = await ctr(realNodeLayout(name), ['images', 'ls', '--quiet']);
    assert.match(r.stdout ?? '', /kubeproof\.local\/loaded:test/);
  });

  it('reports the resident memory of the real node\'s processes', async () => {
    const l = realNodeLayout(name);
    const rss: string[] = [];
    for (const d of ['containerd', 'kubelet', 'kube-proxy']) {
      const pid = (await readFile(`${l.pids}/${d}.pid`, 'utf8')).split(' ')[0];
      const kb = /VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
      rss.push(`${d} ${Math.round(Number(kb) / 1024)} MB`);
    }
    say(`resident memory: ${rss.join(', ')}`);
  });
});
