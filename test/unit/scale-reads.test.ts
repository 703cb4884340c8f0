/**
 * What kubeproof reads at scale: a drain planned for many nodes at once lists each namespace's
 * pods and budgets once (not once per pod and per owner and node: quadratic at 1,000 nodes);
 * lists come in pages, as client-go's pager does, and keep no managedFields; informers keep
 * none either.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kube } from '../../src/kube/client.js';
import { Informer } from '../../src/kube/informer.js';
import { planDrain, PlanReads } from '../../src/faults/drain.js';
import type { Scenario } from '../../src/scenario/scenario.js';
import type { KubeObject, Pod } from '../../src/kube/types.js';

const managed = [{ manager: 'kube-controller-manager', operation: 'Update', fieldsV1: { 'f:status': { 'f:conditions': {} } } }];

function pod(name: string, namespace: string, node: string, owner: string, ready = true): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: owner }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: `uid-${owner}`, controller: true }], managedFields: managed } as Pod['metadata'],
    spec: { nodeName: node, containers: [] },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

/** A cluster of N nodes and namespaces of one ReplicaSet each, its pods spread round-robin; lists counted by kind and scope. */
function fakeKube(nodes: number, namespaces: number, podsPerNamespace: number) {
  const pods: Pod[] = [];
  for (let n = 0; n < namespaces; n++) for (let i = 0; i < podsPerNamespace; i++) pods.push(pod(`w${n}-${i}`, `ns-${n}`, `node-${(i + n) % nodes}`, `w${n}-rs`, i % 7 !== 0));
  const pdbs = Array.from({ length: namespaces }, (_, n) => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: `w${n}`, namespace: `ns-${n}` }, spec: { selector: { matchLabels: { app: `w${n}-rs` } } }, status: { disruptionsAllowed: 2, currentHealthy: 9, desiredHealthy: 7 } }));
  const lists: string[] = [];
  let inFlight = 0;
  const most = { inFlight: 0 };
  const kube = {
    find: async (kind: string, name: string) => (kind === 'Node' && Number(name.split('-')[1]) < nodes ? { metadata: { name }, spec: {} } : undefined),
    list: async (kind: string, opts: { namespace?: string; fieldSelector?: string } = {}) => {
      lists.push(`${kind} ${opts.namespace ?? opts.fieldSelector ?? 'all'}`);
      const whole = Boolean(opts.namespace);
      if (whole) most.inFlight = Math.max(most.inFlight, ++inFlight);
      await new Promise((r) => setImmediate(r));
      if (whole) inFlight--;
      const node = opts.fieldSelector?.match(/^spec\.nodeName=(.*)$/)?.[1];
      const all: KubeObject[] = kind === 'Pod' ? pods : kind === 'PodDisruptionBudget' ? pdbs : [];
      return { items: structuredClone(all.filter((o) => (!opts.namespace || o.metadata?.namespace === opts.namespace) && (!node || (o as Pod).spec?.nodeName === node))), metadata: { resourceVersion: '7' } };
    },
  } as unknown as Kube;
  return { kube, lists, pods, most };
}

describe('a drain planned for many nodes at once', () => {
  it('lists each namespace once for all the nodes, and plans what a plan of each alone would', async () => {
    const { kube, lists, pods, most } = fakeKube(50, 20, 50);
    const s = { kube } as Scenario;
    const names = Array.from({ length: 50 }, (_, i) => `node-${i}`);
    const reads = new PlanReads(kube);
    const plans = await Promise.all(names.map((n) => planDrain(s, n, {}, reads)));
    // One list of each node's pods, one of each namespace's pods and one of its budgets: 90, not
    // one budget list per pod (1,000) and one namespace list per owner and node (1,000).
    assert.equal(lists.filter((l) => l.startsWith('Pod spec.nodeName=')).length, 50);
    assert.deepEqual(reads.lists, { pods: 20, pdbs: 20 });
    assert.equal(lists.length, 90, lists.join('\n'));
    // At most 4 namespaces' lists in flight at once (each is megabytes of JSON at scale).
    assert.ok(most.inFlight <= 4, String(most.inFlight));
    most.inFlight = 0;
    const many = new PlanReads(kube);
    const owners = await Promise.all(Array.from({ length: 20 }, (_, n) => many.ownersOf(`ns-${n}`)));
    assert.equal(most.inFlight, 4);
    assert.deepEqual(owners.map((o) => o.get(`ReplicaSet/w${owners.indexOf(o)}-rs`)?.length), Array(20).fill(50));
    // The same plan as each node planned on its own (its own reads).
    for (const n of ['node-0', 'node-17', 'node-49']) {
      const alone = await planDrain(s, n);
      assert.deepEqual(plans[names.indexOf(n)], alone);
    }
    // And what the cluster says: node-3's pods of ns-1, the Ready ones of that owner elsewhere.
    const p3 = plans[3]!;
    const mine = pods.filter((p) => p.spec?.nodeName === 'node-3');
    assert.equal(p3.evict.length, mine.length);
    const rs = p3.leftRunning.find((r) => r.namespace === 'ns-1')!;
    const siblings = pods.filter((p) => p.metadata?.namespace === 'ns-1');
    assert.equal(rs.total, siblings.length);
    assert.equal(rs.readyElsewhere, siblings.filter((p) => p.spec?.nodeName !== 'node-3' && p.status?.conditions?.[0]?.status === 'True').length);
    assert.deepEqual(p3.evict.find((e) => e.namespace === 'ns-1')!.pdbs, [{ name: 'w1', namespace: 'ns-1', disruptionsAllowed: 2, currentHealthy: 9, desiredHealthy: 7 }]);
  });
});

describe('lists in pages, without managedFields', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubeproof-pages-'));
  let server: Server;
  const requests: string[] = [];
  let expireSecondPage = false;
  const all = Array.from({ length: 1203 }, (_, i) => pod(`p${i}`, 'ns', 'node-1', 'rs'));
  after(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function kube(): Promise<Kube> {
    server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      requests.push(url.search);
      const limit = Number(url.searchParams.get('limit') ?? 0);
      const from = Number(url.searchParams.get('continue') ?? 0);
      if (expireSecondPage && from > 0) {
        res.writeHead(410, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired', message: 'The provided continue parameter is too old' }));
        return;
      }
      const items = limit ? all.slice(from, from + limit) : all;
      const next = limit && from + limit < all.length ? String(from + limit) : undefined;
      res.writeHead(200, { 'content-type': 'application/json' });
      // Items of a list come without apiVersion and kind, as the API server sends them.
      res.end(JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: '42', ...(next ? { continue: next } : {}) }, items: items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest) }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${port}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\n`);
    return Kube.fromKubeconfig(file);
  }

  it('pages of 500 until the server says there is no more; every item whole but for managedFields', async () => {
    const k = await kube();
    const list = await k.list<Pod>('Pod', { namespace: 'ns' });
    assert.deepEqual(requests, ['?limit=500', '?limit=500&continue=500', '?limit=500&continue=1000']);
    assert.equal(list.items.length, 1203);
    assert.equal(list.metadata?.resourceVersion, '42');
    assert.equal(list.metadata?.continue, undefined);
    assert.equal(list.items[1202]!.metadata?.name, 'p1202');
    assert.equal(list.items[0]!.kind, 'Pod');
    assert.ok(list.items.every((p) => !('managedFields' in p.metadata!)));
    assert.deepEqual(list.items[5]!.spec, all[5]!.spec);

    // A snapshot compacted between pages (410 for the continue token): listed again whole, once.
    requests.length = 0;
    expireSecondPage = true;
    const again = await k.list<Pod>('Pod', { namespace: 'ns' });
    assert.deepEqual(requests, ['?limit=500', '?limit=500&continue=500', '']);
    assert.equal(again.items.length, 1203);
    assert.equal(new Set(again.items.map((p) => p.metadata?.name)).size, 1203);
  });

  it('an informer keeps no managedFields, from its list or from its watch', async () => {
    let onEvent: ((phase: string, obj: KubeObject) => void) | undefined;
    const fake = {
      list: async () => ({ items: [pod('a', 'ns', 'n', 'rs')], metadata: { resourceVersion: '1' } }),
      watch: async (_p: string, _q: unknown, cb: (phase: string, obj: KubeObject) => void) => ((onEvent = cb), () => undefined),
    } as unknown as Kube;
    const inf = new Informer<Pod>(fake, 'Pod');
    await inf.start();
    onEvent!('ADDED', { ...pod('b', 'ns', 'n', 'rs'), metadata: { ...pod('b', 'ns', 'n', 'rs').metadata, resourceVersion: '2' } });
    assert.deepEqual(inf.list().map((p) => p.metadata?.name).sort(), ['a', 'b']);
    for (const p of inf.list()) assert.ok(!('managedFields' in p.metadata!), JSON.stringify(p.metadata));
    await inf.stop();
  });
});
