/**
 * Traffic to a Service: the client pod's lines, its manifest, which sender each cluster's
 * parts choose, the client pod's life through a fake API (start on the pod watch, the log
 * followed again without duplicates after a broken stream, stop through deletion, a client
 * that dies early making the availability claim fail), and the in-process sender against a
 * real local HTTP server.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CLIENT_CONTAINER, ClientPodTraffic, TRAFFIC_CLIENT_LABEL, clientPodManifest, clientPodName, parseClientLine } from '../../src/traffic/client-pod.js';
import { InProcessTraffic } from '../../src/traffic/in-process.js';
import { clusterIpUrl, type TrafficPlan } from '../../src/traffic/stream.js';
import { KIND_CLIENT_PLACEMENT, kindParts } from '../../src/cluster/providers/kind.js';
import { localParts } from '../../src/cluster/providers/local-parts.js';
import { isRefusal, type ServiceTraffic } from '../../src/cluster/providers/provider.js';
import { HttpProbe } from '../../src/probes/http.js';
import { AVAILABILITY_TRAFFIC, AVAILABILITY_PROBES, AvailabilityProbe } from '../../src/probes/availability.js';
import { expectAvailability } from '../../src/expect/availability.js';
import { loadPlan } from '../../src/faults/http-load.js';
import type { Kube } from '../../src/kube/client.js';
import type { Pod, Service } from '../../src/kube/types.js';
import { ApiError } from '../../src/kube/errors.js';
import { FakeCluster, NS, fakeScenario, pod } from './fake-cluster.js';

const PLAN: TrafficPlan = { path: '/', ratePerSecond: 20, timeoutMs: 1000, maxInFlight: 20, maxDurationMs: 600_000, purpose: 'availability' };
const svc = (name = 'web', ip = '10.96.0.12'): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { clusterIP: ip, selector: { app: name }, ports: [{ port: 80 }] } }) as Service;
const line = (o: object) => JSON.stringify(o);

describe('the client pod\'s lines', () => {
  it('a result line becomes a result, with the pod that answered', () => {
    assert.deepEqual(parseClientLine(line({ seq: 3, at: 1764650000123.4, ok: true, status: 200, latencyMs: 1.8, pod: 'web-1' })), {
      kind: 'result',
      seq: 3,
      result: { at: 1764650000123.4, ok: true, latencyMs: 1.8, status: 200, pod: 'web-1' },
    });
  });
  it('a failure keeps its error and has no status when none came', () => {
    assert.deepEqual(parseClientLine(line({ seq: 4, at: 5, ok: false, latencyMs: 1000.2, error: 'no answer within 1000 ms' })), { kind: 'result', seq: 4, result: { at: 5, ok: false, latencyMs: 1000.2, error: 'no answer within 1000 ms' } });
    assert.deepEqual(parseClientLine(line({ seq: 5, at: 6, ok: false, status: 503, latencyMs: 2 })), { kind: 'result', seq: 5, result: { at: 6, ok: false, latencyMs: 2, status: 503 } });
  });
  it('start and end lines are events; the end carries what was sent and skipped', () => {
    assert.deepEqual(parseClientLine(line({ event: 'start', at: 1, url: 'http://x/', rate: 20, sent: 0, skipped: 0 })), { kind: 'start', at: 1, url: 'http://x/' });
    assert.deepEqual(parseClientLine(line({ event: 'end', at: 9, sent: 120, skipped: 3, reason: 'signal' })), { kind: 'end', at: 9, sent: 120, skipped: 3, reason: 'signal' });
  });
  it('anything else is no line of the client: text, broken JSON, missing or mistyped fields', () => {
    for (const bad of ['', 'panic: runtime error', '{"seq":1,', line({ seq: 1, at: 2, ok: 'yes', latencyMs: 1 }), line({ seq: 1, ok: true, latencyMs: 1 }), line({ at: 1, ok: true, latencyMs: 1 }), line({ event: 'end' }), line({ seq: 1, at: Number.NaN, ok: true, latencyMs: 1 })]) {
      assert.equal(parseClientLine(bad), undefined, bad);
    }
  });
});

describe('the client pod', () => {
  const m = clientPodManifest('traffic-availability-web-abc123', NS, 'http://10.96.0.12:80/', PLAN, { image: 'kubeproof.local/testapp:1', placement: KIND_CLIENT_PLACEMENT, service: 'web' });
  it('has no API credentials, small requests, no restarts, and ends by itself', () => {
    assert.equal(m.spec?.automountServiceAccountToken, false);
    assert.equal(m.spec?.restartPolicy, 'Never');
    assert.equal(m.spec?.activeDeadlineSeconds, 600 + 60);
    const c = m.spec!.containers[0]!;
    assert.equal(c.name, CLIENT_CONTAINER);
    assert.equal(c.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(c.resources?.requests, { cpu: '20m', memory: '16Mi' });
    assert.equal(c.resources?.limits?.cpu, undefined, 'no CPU limit: throttling would read as latency');
    assert.deepEqual(c.args, ['client', '--url', 'http://10.96.0.12:80/', '--rate', '20', '--timeout-ms', '1000', '--max-in-flight', '20', '--duration-s', '600']);
  });
  it('runs on the control-plane node of kind, tolerating its taint, and no Service selects it', () => {
    assert.deepEqual(m.spec?.nodeSelector, { 'node-role.kubernetes.io/control-plane': '' });
    assert.deepEqual(m.spec?.tolerations, [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.deepEqual(m.metadata?.labels, { [TRAFFIC_CLIENT_LABEL]: 'availability' });
  });
  it('names are DNS labels of at most 63 characters', () => {
    const n = clientPodName('availability', 'a-service-with-a-very-long-name-that-goes-on-and-on-and-on-forever');
    assert.ok(n.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n), n);
    assert.notEqual(clientPodName('load', 'web'), clientPodName('load', 'web'));
  });
  it('the load is bounded: cores × 10 req/s of /burn, at most 8 in flight, 10 minutes', () => {
    assert.deepEqual(loadPlan(0.4), { path: '/burn?ms=100', ratePerSecond: 4, timeoutMs: 10_000, maxInFlight: 8, maxDurationMs: 600_000, purpose: 'load' });
    assert.equal(AVAILABILITY_TRAFFIC.ratePerSecond, 20);
  });
});

describe('who sends the requests: the cluster\'s traffic part', () => {
  const ctx = { kube: {} as Kube, namespace: NS, pods: {} as never };
  const open = (t: ServiceTraffic | { refused: string }, pods: Pod[], s = svc()) => (isRefusal(t) ? t : t.open(ctx, s, pods, PLAN));
  it('a local cluster with a real node sends from this process, to pods on the real node only', () => {
    const parts = localParts({ name: 'c', realNodes: ['real-1'] });
    const t = open(parts.serviceTraffic, [pod('a-1', { app: 'web' }, { node: 'real-1' })]);
    assert.ok(t instanceof InProcessTraffic);
    assert.equal(t.url, 'http://10.96.0.12:80/');
    assert.match(t.from, /this machine/);
    assert.ok(isRefusal(open(parts.serviceTraffic, [pod('a-1', { app: 'web' }, { node: 'node-1' })])), 'a KWOK pod answers no request');
    assert.ok(isRefusal(open(parts.serviceTraffic, [])), 'no Ready pod');
  });
  it('a local cluster without a real node sends nothing', () => {
    assert.ok(isRefusal(localParts({ name: 'c', realNodes: [] }).serviceTraffic));
  });
  it('kind sends from a client pod on its control-plane node', () => {
    const parts = kindParts({ name: 'k', nodes: ['node-1', 'node-2'] });
    assert.ok(!isRefusal(parts.serviceTraffic));
    assert.match(parts.serviceTraffic.from, /client pod on the control-plane node/);
    const t = open(parts.serviceTraffic, [pod('web-1', { app: 'web' }, { node: 'node-1' })]);
    assert.ok(t instanceof ClientPodTraffic);
    assert.equal(t.url, 'http://10.96.0.12:80/');
    assert.ok(isRefusal(open(parts.serviceTraffic, [])), 'no Ready pod');
    assert.ok(isRefusal(open(parts.serviceTraffic, [pod('web-1', { app: 'web' })], svc('web', 'None'))), 'a headless Service has no ClusterIP');
  });
  it('URLs: IPv6 ClusterIPs in brackets, paths kept', () => {
    assert.equal(clusterIpUrl(svc('web', 'fd00::12'), '/burn?ms=100'), 'http://[fd00::12]:80/burn?ms=100');
  });
});

/** The API as the client pod meets it: create, the pod watch, the log followed, deletion. */
function fakeApi(cluster: FakeCluster) {
  const log: string[] = [];
  const follows: Array<{ onLine: (l: string) => void; onEnd: (err?: unknown) => void; open: boolean }> = [];
  let name = '';
  const setState = (state: object) => {
    const p = cluster.get<Pod>('Pod', name)!;
    cluster.apply({ ...p, spec: { ...p.spec!, nodeName: 'k-control-plane' }, status: { phase: 'Running', containerStatuses: [{ name: CLIENT_CONTAINER, state }] } } as Pod);
  };
  const api = {
    print(...lines: object[]) {
      for (const l of lines) {
        log.push(line(l));
        for (const f of follows) if (f.open) f.onLine(line(l));
      }
    },
    /** The stream breaks (not the container's end). */
    breakStream() {
      for (const f of follows) if (f.open) ((f.open = false), f.onEnd(new Error('socket hang up')));
    },
    /** The container ends (exit code), the stream with it. */
    end(exitCode: number, reason: string) {
      setState({ terminated: { exitCode, reason } });
      for (const f of follows) if (f.open) ((f.open = false), f.onEnd());
    },
    run: () => setState({ running: { startedAt: new Date().toISOString() } }),
    follows,
    deleted: [] as string[],
    kube: {} as Kube,
  };
  const base = cluster.asKube();
  api.kube = Object.assign(base, {
    create: async (o: Pod) => {
      name = o.metadata!.name!;
      return cluster.apply({ ...o, status: { phase: 'Pending' } });
    },
    find: async (_k: string, n: string) => cluster.get('Pod', n),
    delete: async (_k: string, n: string) => {
      if (!cluster.get('Pod', n)) throw new ApiError(404, 'NotFound', 'gone');
      api.deleted.push(n);
      // SIGTERM: the client prints its last line and exits 0.
      queueMicrotask(() => {
        api.print({ event: 'end', at: Date.now(), sent: 3, skipped: 1, reason: 'signal' });
        api.end(0, 'Completed');
      });
    },
    followLog: async (_ns: string, _pod: string, container: string, onLine: (l: string) => void, onEnd: (err?: unknown) => void) => {
      assert.equal(container, CLIENT_CONTAINER);
      const f = { onLine, onEnd, open: true };
      follows.push(f);
      // The API server sends the log from its start.
      for (const l of log) onLine(l);
      return () => (f.open = false);
    },
  }) as unknown as Kube;
  return api;
}

describe('a client pod\'s life', () => {
  it('starts on the pod watch, follows the log again without duplicates after a broken stream, and stops through deletion', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    const api = fakeApi(cluster);
    const t = new ClientPodTraffic({ kube: api.kube, namespace: NS, pods: s.timeline.pods }, 'http://10.96.0.12:80/', PLAN, { image: 'img', placement: KIND_CLIENT_PLACEMENT, service: 'web' });
    const got: number[] = [];
    t.on((r) => got.push(r.at));
    const started = t.start(5000);
    await new Promise((r) => setImmediate(r));
    assert.equal(api.follows.length, 0, 'no log is read before the container runs');
    api.run();
    await new Promise((r) => setTimeout(r, 20));
    api.print({ event: 'start', at: 0, url: 'http://10.96.0.12:80/' }, { seq: 1, at: 100, ok: true, status: 200, latencyMs: 1, pod: 'web-1' });
    await started;
    assert.match(t.from, /client pod traffic-availability-web-\w+ on node k-control-plane \(the control-plane node\)/);
    api.print({ seq: 2, at: 150, ok: false, latencyMs: 1000, error: 'no answer within 1000 ms' });
    api.breakStream();
    // Followed again (after its back-off): the log's replay is skipped, new lines are read.
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(api.follows.length, 2);
    api.print({ seq: 3, at: 200, ok: true, status: 200, latencyMs: 1, pod: 'web-2' });
    await t.stop();
    assert.deepEqual(got, [100, 150, 200]);
    assert.equal(t.skipped, 1);
    assert.equal(t.sent, 3);
    assert.equal(t.trouble, undefined);
    assert.equal(api.deleted.length, 1);
    await s.timeline.stop();
  });

  it('a client that dies mid-measurement is trouble, and the availability claim then fails rather than judging half a window', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    const api = fakeApi(cluster);
    const t = new ClientPodTraffic({ kube: api.kube, namespace: NS, pods: s.timeline.pods }, 'http://10.96.0.12:80/', PLAN, { image: 'img', placement: KIND_CLIENT_PLACEMENT, service: 'web' });
    const probe = new HttpProbe(t, 20);
    const started = probe.start(5000);
    await new Promise((r) => setImmediate(r));
    api.run();
    await new Promise((r) => setTimeout(r, 20));
    api.print({ seq: 1, at: Date.now(), ok: true, status: 200, latencyMs: 1, pod: 'web-1' });
    await started;
    api.end(137, 'OOMKilled');
    await new Promise((r) => setTimeout(r, 50));
    assert.match(t.trouble ?? '', /ended \(exit code 137, OOMKilled\)/);
    const availability = new AvailabilityProbe(s.timeline, 'web');
    availability.samples.push({ at: Date.now() - 1000, value: 3 });
    availability.http = probe;
    s.state(AVAILABILITY_PROBES).set('web', availability);
    assert.throws(() => expectAvailability(s, 'web', 50), /cannot be judged: the HTTP requests stopped before the measurement ended/);
    await probe.stop();
    await s.timeline.stop();
  });

  it('a client pod that never starts fails the start with what the watch saw', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    const api = fakeApi(cluster);
    const t = new ClientPodTraffic({ kube: api.kube, namespace: NS, pods: s.timeline.pods }, 'http://10.96.0.12:80/', PLAN, { image: 'img', placement: KIND_CLIENT_PLACEMENT, service: 'web' });
    await assert.rejects(t.start(300), /traffic client pod .* started[\s\S]*Pending/);
    await s.timeline.stop();
  });
});

describe('requests from this process', () => {
  it('a real server: every request on its own connection, the pod named, a refused port counted as failure', async () => {
    const sockets = new Set<unknown>();
    const server = http.createServer((_req, res) => res.end('testapp h pod=p-1 requests=1\n'));
    server.on('connection', (sock) => sockets.add(sock));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const t = new InProcessTraffic(`http://127.0.0.1:${port}/`, { ...PLAN, ratePerSecond: 50 });
    const results: Array<{ ok: boolean; pod?: string }> = [];
    t.on((r) => results.push(r));
    await t.start(2000);
    await new Promise((r) => setTimeout(r, 200));
    await t.stop();
    server.close();
    assert.ok(results.length >= 3, `${results.length} results`);
    assert.ok(results.every((r) => r.ok && r.pod === 'p-1'));
    assert.equal(sockets.size, results.length, 'one connection per request');
    const refused = new InProcessTraffic(`http://127.0.0.1:${port}/`, { ...PLAN, ratePerSecond: 50 });
    const errs: string[] = [];
    refused.on((r) => errs.push(r.error ?? ''));
    await refused.start(2000);
    await refused.stop();
    assert.equal(errs[0], 'ECONNREFUSED');
  });
});
