import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { KindProvider, containerOf, kindConfig, kindParts, kindWorkerNames } from '../../src/cluster/providers/kind.js';
import { FAST_TIMINGS } from '../../src/cluster/providers/provider.js';
import { isRefusal } from '../../src/cluster/providers/provider.js';
import { undoOne } from '../../src/ledger/undo-ops.js';
import type { Kube } from '../../src/kube/client.js';
import { BadInputError, EnvironmentError } from '../../src/errors.js';
import { silentLog } from '../../src/log.js';
import { BINARY_NAMES, VERSION_SET_ID } from '../../src/cluster/build/binaries.js';
import { setEnv, fakeApiServer, kubeconfigYaml, VERSION_ROUTE, type FakeApi } from './support.js';

/** dist/test/unit → the source tree's test/fake-bin (the scripts are not compiled). */
const fakeBin = fileURLToPath(new URL('../../../test/fake-bin/', import.meta.url));
const fakeKind = join(fakeBin, 'kind');
const fakeDocker = join(fakeBin, 'docker');


const READY = { conditions: [{ type: 'Ready', status: 'True' }] };

/** What the metrics-server install applied (server-side apply PATCHes), in order. */
let applied: Array<{ kind: string; name: string }> = [];

const discovery = (groupVersion: string, resources: Array<[string, string, boolean]>) => ({ kind: 'APIResourceList', groupVersion, resources: resources.map(([name, kind, namespaced]) => ({ name, kind, namespaced, singularName: '', verbs: ['get', 'list', 'patch'] })) });

/**
 * Just enough API server for the provider: /version and the node list (every node Ready);
 * for metrics-server, discovery of what it applies, server-side apply (echoed), its
 * APIService Available and watches that stay open.
 */
function fakeApi(): Promise<FakeApi> {
  const intercept = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method === 'PATCH') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const obj = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { kind: string; metadata: { name: string } };
        applied.push({ kind: obj.kind, name: obj.metadata.name });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(obj));
      });
      return true;
    }
    if (/[?&]watch=(true|1)/.test(req.url ?? '')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      return true;
    }
    return false;
  };
  return fakeApiServer({
    ...VERSION_ROUTE,
    '/api/v1': discovery('v1', [['serviceaccounts', 'ServiceAccount', true], ['services', 'Service', true], ['pods', 'Pod', true]]),
    '/apis/rbac.authorization.k8s.io/v1': discovery('rbac.authorization.k8s.io/v1', [['clusterroles', 'ClusterRole', false], ['clusterrolebindings', 'ClusterRoleBinding', false], ['rolebindings', 'RoleBinding', true]]),
    '/apis/apps/v1': discovery('apps/v1', [['deployments', 'Deployment', true]]),
    '/apis/apiregistration.k8s.io/v1': discovery('apiregistration.k8s.io/v1', [['apiservices', 'APIService', false]]),
    '/apis/apiregistration.k8s.io/v1/apiservices': {
      kind: 'APIServiceList',
      apiVersion: 'apiregistration.k8s.io/v1',
      metadata: { resourceVersion: '1' },
      items: [{ metadata: { name: 'v1beta1.metrics.k8s.io', resourceVersion: '1' }, status: { conditions: [{ type: 'Available', status: 'True', reason: 'Passed' }] } }],
    },
    '/api/v1/namespaces/kube-system/pods': { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] },
    '/api/v1/nodes': {
      kind: 'NodeList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '1' },
      items: [
        { metadata: { name: 't1-control-plane', labels: { 'node-role.kubernetes.io/control-plane': '' } }, status: READY },
        { metadata: { name: 'node-2', labels: { 'topology.kubernetes.io/zone': 'b' } }, status: READY },
        { metadata: { name: 'node-1', labels: { 'topology.kubernetes.io/zone': 'a' } }, status: READY },
        { metadata: { name: 'node-3', labels: { 'topology.kubernetes.io/zone': 'a' } }, status: READY },
      ],
    },
  }, intercept);
}

/** A binary set in the test's cache, as binaries.ts leaves one (so nothing is built): metrics-server's image is packed from it. */
function fakeBinarySet(cache: string): void {
  const dir = join(cache, 'bin', VERSION_SET_ID);
  mkdirSync(join(dir, 'kwok-kustomize'), { recursive: true });
  const binaries: Record<string, { sha256: string; size: number; version: string; buildSeconds: number }> = {};
  for (const name of BINARY_NAMES) {
    const body = `#!/bin/sh\necho fake ${name}\n`;
    writeFileSync(join(dir, name), body, { mode: 0o755 });
    binaries[name] = { sha256: createHash('sha256').update(body).digest('hex'), size: Buffer.byteLength(body), version: 'fake', buildSeconds: 0 };
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ schema: 1, versionSetId: VERSION_SET_ID, binaries }));
}


interface Call {
  bin: 'kind' | 'docker';
  argv: string[];
  config?: string;
}

let tmp: string;
let api: { server: Server; url: string };
let callsLog: string;
let fakeKubeconfig: string;
let testNo = 0;

async function calls(): Promise<Call[]> {
  if (!existsSync(callsLog)) return [];
  return (await readFile(callsLog, 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Call);
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kubeproof-kind-test-'));
  // git may not keep the executable bit everywhere.
  await chmod(fakeKind, 0o755);
  await chmod(fakeDocker, 0o755);
  api = await fakeApi();
  fakeKubeconfig = join(tmp, 'fake-kind.kubeconfig');
  await writeFile(fakeKubeconfig, kubeconfigYaml([{ name: 'kind-t1', server: api.url }], 'kind-t1'));
});
after(async () => {
  api.server.closeAllConnections();
  await new Promise((r) => api.server.close(r));
  await rm(tmp, { recursive: true, force: true });
});

/** Fresh call log and cache for every test. */
function fakeEnv(extra: Record<string, string | undefined> = {}) {
  testNo += 1;
  callsLog = join(tmp, `calls-${testNo}.jsonl`);
  setEnv({
    KUBEPROOF_KIND: fakeKind,
    KUBEPROOF_DOCKER: fakeDocker,
    KUBEPROOF_CACHE: join(tmp, `cache-${testNo}`),
    FAKE_CALLS_LOG: callsLog,
    FAKE_KUBECONFIG: fakeKubeconfig,
    FAKE_DOCKER_DOWN: undefined,
    FAKE_DOCKER_NO_FREEZER: undefined,
    FAKE_DOCKER_PAUSE_ERROR: undefined,
    ...extra,
  });
  fakeBinarySet(join(tmp, `cache-${testNo}`));
  applied = [];
}

type KindConfig = { kind: string; apiVersion: string; kubeadmConfigPatches?: string[]; containerdConfigPatches?: string[]; nodes: Array<{ role: string; labels?: Record<string, string>; kubeadmConfigPatches?: string[] }> };

describe('kind config', () => {
  it('has one control plane and N workers named node-1…N, zone labels round-robin', () => {
    const c = kindConfig(3, ['a', 'b']) as KindConfig;
    assert.equal(c.kind, 'Cluster');
    assert.equal(c.apiVersion, 'kind.x-k8s.io/v1alpha4');
    assert.deepEqual(
      c.nodes.map((n) => [n.role, n.labels?.['topology.kubernetes.io/zone'], n.kubeadmConfigPatches?.map((p) => (YAML.parse(p) as { nodeRegistration: { name: string } }).nodeRegistration.name)[0]]),
      [['control-plane', undefined, undefined], ['worker', 'a', 'node-1'], ['worker', 'b', 'node-2'], ['worker', 'a', 'node-3']],
    );
  });

  it('sets the timings it is given through kubeadm and the kubelet, and nothing else without them', () => {
    const fast = kindConfig(1, [], { timings: FAST_TIMINGS }) as KindConfig;
    const docs = (fast.kubeadmConfigPatches ?? []).map((p) => YAML.parse(p) as Record<string, Record<string, Record<string, string>>>);
    const cc = docs.find((d) => (d.kind as unknown) === 'ClusterConfiguration')!;
    assert.equal(cc.controllerManager!.extraArgs!['node-monitor-grace-period'], '10s');
    assert.equal(cc.controllerManager!.extraArgs!['horizontal-pod-autoscaler-downscale-stabilization'], '15s');
    assert.equal(cc.apiServer!.extraArgs!['default-unreachable-toleration-seconds'], '10');
    const kubelet = docs.find((d) => (d.kind as unknown) === 'KubeletConfiguration')! as unknown as Record<string, unknown>;
    assert.equal(kubelet.nodeLeaseDurationSeconds, 8);
    const plain = kindConfig(1) as KindConfig;
    assert.deepEqual((plain.kubeadmConfigPatches ?? []).map((p) => YAML.parse(p) as unknown), [{ kind: 'KubeletConfiguration', failCgroupV1: false }]);
    assert.equal(plain.containerdConfigPatches, undefined);
    assert.match((kindConfig(1, [], { restrictOomScoreAdj: true }) as KindConfig).containerdConfigPatches![0]!, /restrict_oom_score_adj = true/);
    assert.match((kindConfig(1, [], { etcdImageTag: '3.6.16-0' }) as KindConfig).kubeadmConfigPatches![0]!, /imageTag: 3.6.16-0/);
  });

  it('knows the container of each node: kind names containers, kubeproof names nodes', () => {
    assert.deepEqual(kindWorkerNames('t1', 3), ['t1-worker', 't1-worker2', 't1-worker3']);
    assert.equal(containerOf('t1', 'node-1'), 't1-worker');
    assert.equal(containerOf('t1', 'node-3'), 't1-worker3');
    assert.equal(containerOf('t1', 't1-control-plane'), 't1-control-plane');
    // real-i come after node-1…N in kind's order.
    assert.equal(containerOf('t1', 'real-1', ['node-1', 'node-2', 'node-3', 'real-1']), 't1-worker4');
  });

  it('adds real-N workers labelled and tainted as the local cluster\'s real node, after node-1…N', () => {
    const c = kindConfig(2, ['a', 'b'], { realWorkers: 1 }) as KindConfig;
    const reg = (n: KindConfig['nodes'][number]) => (YAML.parse(n.kubeadmConfigPatches![0]!) as { nodeRegistration: { name: string; taints?: unknown[] } }).nodeRegistration;
    assert.deepEqual(c.nodes.slice(1).map((n) => reg(n).name), ['node-1', 'node-2', 'real-1']);
    const real = c.nodes[3]!;
    assert.deepEqual(real.labels, { 'kubeproof.io/node-type': 'real' });
    assert.deepEqual(reg(real).taints, [{ key: 'kubeproof.io/node-type', value: 'real', effect: 'NoSchedule' }]);
    assert.equal(reg(c.nodes[1]!).taints, undefined);
  });
});

describe('KindProvider', () => {
  it('creates the cluster with kind, writes its kubeconfig, and deletes both on down()', async () => {
    fakeEnv();
    const cluster = await new KindProvider().up({ name: 't1', nodes: 3, zones: ['a', 'b'], log: silentLog });

    const [info, inspect, create, getKubeconfig, ...rest] = await calls();
    assert.deepEqual(inspect, { bin: 'docker', argv: ['network', 'inspect', 'kind'] });
    // The project's test app goes into the nodes, also under its "next version" tag.
    assert.deepEqual(
      rest.map((c) => [c.bin, ...c.argv.filter((a) => !a.endsWith('.tar'))]),
      [
        ['kind', 'load', 'image-archive', '--name', 't1'],
        ['docker', 'load', '-i'],
        ['docker', 'tag', 'kubeproof.local/testapp:1', 'kubeproof.local/testapp:2'],
        ['kind', 'load', 'docker-image', 'kubeproof.local/testapp:2', '--name', 't1'],
        // metrics-server, packed from the cached binary, into the control-plane node only (where it runs).
        ['kind', 'load', 'image-archive', '--name', 't1', '--nodes', 't1-control-plane'],
      ],
    );
    assert.match(rest[4]!.argv[2]!, /images\/metrics-server-v0\.9\.0-[0-9a-f]{12}\.tar$/);
    // Applied through the kube layer, the APIService last (then waited for until Available).
    assert.deepEqual(applied.map((a) => `${a.kind}/${a.name}`), [
      'ServiceAccount/metrics-server',
      'ClusterRole/system:aggregated-metrics-reader',
      'ClusterRole/system:metrics-server',
      'RoleBinding/metrics-server-auth-reader',
      'ClusterRoleBinding/metrics-server:system:auth-delegator',
      'ClusterRoleBinding/system:metrics-server',
      'Service/metrics-server',
      'Deployment/metrics-server',
      'APIService/v1beta1.metrics.k8s.io',
    ]);
    assert.deepEqual(info, { bin: 'docker', argv: ['info'] });
    assert.equal(create?.bin, 'kind');
    const configPath = create!.argv[5]!;
    assert.deepEqual(create!.argv, ['create', 'cluster', '--name', 't1', '--config', configPath, '--wait', '120s']);
    assert.equal(existsSync(configPath), false, 'the temporary kind config is removed');
    const config = YAML.parse(create!.config!) as KindConfig;
    assert.equal(config.kind, 'Cluster');
    assert.equal(config.apiVersion, 'kind.x-k8s.io/v1alpha4');
    assert.deepEqual(
      config.nodes.map((n) => [n.role, n.labels?.['topology.kubernetes.io/zone']]),
      [['control-plane', undefined], ['worker', 'a'], ['worker', 'b'], ['worker', 'a']],
    );
    assert.deepEqual(getKubeconfig, { bin: 'kind', argv: ['get', 'kubeconfig', '--name', 't1'] });

    const expectedPath = join(tmp, `cache-${testNo}`, 'kind', 't1.kubeconfig');
    assert.equal(cluster.kubeconfigPath, expectedPath);
    assert.equal(await readFile(expectedPath, 'utf8'), await readFile(fakeKubeconfig, 'utf8'));
    assert.equal(cluster.kind, 'kind');
    assert.equal(cluster.name, 't1');
    assert.equal(cluster.context, 'kind-t1');
    assert.equal(cluster.apiServerUrl, api.url);
    assert.equal(cluster.serverVersion, 'v1.37.2');
    assert.deepEqual(cluster.nodes, ['node-1', 'node-2', 'node-3']);
    assert.deepEqual(cluster.capabilities, {
      realContainers: true,
      realNodes: ['node-1', 'node-2', 'node-3'],
      canStopNode: true,
      readinessMechanism: 'app-endpoint',
      metricsSource: 'kubelet',
      simulatedNodes: false,
      othersChangeNodes: false,
    });
    assert.equal(cluster.timings.source, 'kubeproof-fast');
    assert.equal(cluster.timings.nodeMonitorGracePeriodSeconds, 10);

    await cluster.down();
    // kind never removes its network: the one this create made goes with the last kind cluster.
    assert.deepEqual((await calls()).slice(9), [
      { bin: 'kind', argv: ['delete', 'cluster', '--name', 't1'] },
      { bin: 'kind', argv: ['get', 'clusters'] },
      { bin: 'docker', argv: ['network', 'rm', 'kind'] },
    ]);
    assert.equal(existsSync(expectedPath), false, 'down() removes the kubeconfig');
  });

  it('refuses to add nodes', async () => {
    fakeEnv();
    const cluster = await new KindProvider().up({ name: 't1', nodes: 2, log: silentLog });
    await assert.rejects(cluster.addNodes([{ name: 'extra' }]), (err: unknown) => err instanceof BadInputError && err.exitCode === 2 && /kind cannot add nodes/.test(err.message));
    await cluster.down();
  });

  it('stops with exit 3, before kind runs, when the Docker engine is down', async () => {
    fakeEnv({ FAKE_DOCKER_DOWN: '1' });
    await assert.rejects(new KindProvider().up({ name: 't1', nodes: 2, log: silentLog }), (err: unknown) => {
      assert.ok(err instanceof EnvironmentError);
      assert.equal(err.exitCode, 3);
      assert.match(err.message, /kind needs a Docker engine; `.*docker info` failed: Cannot connect to the Docker daemon/);
      assert.ok(err.hint);
      return true;
    });
    assert.deepEqual(await calls(), [{ bin: 'docker', argv: ['info'] }]);
  });

  it('stops with exit 3 and a hint when kind is not installed', async () => {
    fakeEnv({ KUBEPROOF_KIND: join(tmp, 'no-such-kind') });
    await assert.rejects(new KindProvider().up({ name: 't1', nodes: 2, log: silentLog }), (err: unknown) => {
      assert.ok(err instanceof EnvironmentError);
      assert.equal(err.exitCode, 3);
      assert.match(err.message, /no-such-kind.* is not installed/);
      assert.match(err.hint ?? '', /KUBEPROOF_KIND/);
      return true;
    });
  });

  it('deletes the cluster again when its API server does not answer', async () => {
    const dead = join(tmp, 'dead.kubeconfig');
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    await writeFile(dead, kubeconfigYaml([{ name: 'kind-t1', server: `http://127.0.0.1:${port}` }], 'kind-t1'));
    fakeEnv({ FAKE_KUBECONFIG: dead });
    await assert.rejects(new KindProvider().up({ name: 't1', nodes: 1, log: silentLog }), (err: unknown) => err instanceof EnvironmentError && err.exitCode === 3);
    assert.deepEqual((await calls()).map((c) => c.argv.slice(0, 2)), [['info'], ['network', 'inspect'], ['create', 'cluster'], ['get', 'kubeconfig'], ['delete', 'cluster'], ['get', 'clusters'], ['network', 'rm']]);
    assert.equal(existsSync(join(tmp, `cache-${testNo}`, 'kind', 't1.kubeconfig')), false);
  });

  it('rejects a name kind cannot use', async () => {
    fakeEnv();
    await assert.rejects(new KindProvider().up({ name: 'Not_Valid', log: silentLog }), BadInputError);
    assert.deepEqual(await calls(), []);
  });
});

describe('kind node containers', () => {
  const kube = { mergePatch: async () => ({}), find: async () => undefined } as unknown as Kube;
  const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
  const record = (undo: unknown) => ({ id: 'x', runId: 'r', fault: 'stop node', target: { kind: 'Node', name: 't1-worker2' }, undo, recordedAt: '', owner: { host: '', pid: 0 } }) as never;
  for (const [mode, stop, start] of [
    ['silent', ['stop', 't1-worker2'], ['start', 't1-worker2']],
    ['kubelet', ['exec', 't1-worker2', 'systemctl', 'stop', 'kubelet'], ['exec', 't1-worker2', 'systemctl', 'start', 'kubelet']],
  ] as const) {
    it(`${mode}: stops a node with docker ${stop[0]} and undoes it from the ledger record with docker ${start[0]}`, async () => {
      fakeEnv();
      const m = kindParts({ name: 't1', nodes: ['node-1', 'node-2'] }).nodeControl.mechanism(mode, node('node-2'));
      assert.ok(!isRefusal(m));
      await m.stop(kube, {});
      assert.equal((await undoOne(kube, record(m.undo))).status, 'reverted');
      assert.deepEqual(await calls(), [
        { bin: 'docker', argv: [...stop] },
        { bin: 'docker', argv: [...start] },
      ]);
    });
  }
  it('freeze: docker pause, undone from the ledger record by docker unpause and SIGCONT to the node\'s processes', async () => {
    fakeEnv();
    const m = kindParts({ name: 't1', nodes: ['node-1', 'node-2'] }).nodeControl.mechanism('freeze', node('node-2'));
    assert.ok(!isRefusal(m));
    assert.match(await m.stop(kube, {}), /docker pause t1-worker2 \(the cgroup freezer/);
    assert.equal((await undoOne(kube, record(m.undo))).status, 'reverted');
    assert.deepEqual((await calls()).map((c) => c.argv), [
      ['pause', 't1-worker2'],
      ['unpause', 't1-worker2'],
      ['exec', 't1-worker2', 'sh', '-c', 'kill -s CONT -- -1'],
    ]);
  });
  it('freeze: where the engine cannot freeze, SIGSTOP to every process in the node but its init, and the same undo thaws it', async () => {
    fakeEnv({ FAKE_DOCKER_NO_FREEZER: '1' });
    const m = kindParts({ name: 't1', nodes: ['node-1', 'node-2'] }).nodeControl.mechanism('freeze', node('node-2'));
    assert.ok(!isRefusal(m));
    assert.match(await m.stop(kube, {}), /SIGSTOP to every process in t1-worker2 but its init .*unable to freeze/);
    process.env.FAKE_DOCKER_NOT_PAUSED = '1';
    try {
      assert.equal((await undoOne(kube, record(m.undo))).status, 'reverted');
    } finally {
      delete process.env.FAKE_DOCKER_NOT_PAUSED;
    }
    assert.deepEqual((await calls()).map((c) => c.argv), [
      ['pause', 't1-worker2'],
      ['unpause', 't1-worker2'],
      ['exec', 't1-worker2', 'sh', '-c', 'kill -s STOP -- -1'],
      ['unpause', 't1-worker2'],
      ['exec', 't1-worker2', 'sh', '-c', 'kill -s CONT -- -1'],
    ]);
  });
  it('freeze: a pause that fails for another reason fails the step, and nothing is signalled', async () => {
    fakeEnv({ FAKE_DOCKER_PAUSE_ERROR: 'No such container: t1-worker2' });
    const m = kindParts({ name: 't1', nodes: ['node-1', 'node-2'] }).nodeControl.mechanism('freeze', node('node-2'));
    assert.ok(!isRefusal(m));
    await assert.rejects(m.stop(kube, {}), (err: unknown) => err instanceof EnvironmentError && /freezing node node-2 failed: docker pause t1-worker2: .*No such container/.test(err.message));
    assert.deepEqual((await calls()).map((c) => c.argv), [['pause', 't1-worker2']]);
  });
  it('other failures of an undo stay failures: only the freeze\'s undo knows "nothing to thaw"', () => {
    const stop = kindParts({ name: 't1', nodes: ['node-1', 'node-2'] }).nodeControl.mechanism('silent', node('node-2'));
    assert.ok(!isRefusal(stop) && !('alreadyIf' in stop.undo));
  });
  it('refuses nodes that are not the cluster\'s, and NotReady-while-up', () => {
    const parts = kindParts({ name: 't1', nodes: ['node-1'] });
    assert.ok(isRefusal(parts.nodeControl.mechanism('silent', node('other'))));
    assert.ok(isRefusal(parts.nodeControl.mechanism('not-ready', node('node-1'))));
    assert.ok(!isRefusal(parts.serviceTraffic), 'Services are reached by a client pod (test/unit/traffic.test.ts)');
  });
});
