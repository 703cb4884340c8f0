/**
 * The `kubeproof` command, end to end, against one local cluster used as an existing cluster:
 * exit codes and messages for bad input and failing scenarios, Ctrl-C and SIGKILL in the
 * middle of real faults (then `kubeproof clean`), and `--plan` changing nothing. The cluster's
 * state is read independently of the runner (nodes, annotations, ledger, Leases, namespaces)
 * before and after each run.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, copyFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LocalProvider, type LocalCluster } from '../../src/cluster/providers/local.js';
import { findBinaries } from '../../src/cluster/build/binaries.js';
import { Kube } from '../../src/kube/client.js';
import { Informer } from '../../src/kube/informer.js';
import { until, type Condition } from '../../src/wait/until.js';
import { kubeproof, stopMidFault, writeFeature } from './harness.js';
import type { KubeObject, Node, Pod } from '../../src/kube/types.js';
import { podReady } from '../../src/timeline/timeline.js';

const tmp = mkdtempSync(join(tmpdir(), 'kubeproof-cli-'));
const name = `cli-${randomBytes(2).toString('hex')}`;
let cluster: LocalCluster;
let kube: Kube;
let nodes: Informer<Node>;
let target: string[];
let baseline: string[];

const kp = (args: string[]) => kubeproof(args).done;

const feature = (file: string, text: string) => writeFeature(tmp, file, text);

/** Everything a run could leave behind, read from the cluster (not from the runner's own records). */
async function traces(): Promise<string[]> {
  const out: string[] = [];
  for (const n of (await kube.list<Node>('Node')).items) {
    const name = n.metadata!.name!;
    if (n.spec?.unschedulable) out.push(`${name} cordoned`);
    for (const t of n.spec?.taints ?? []) out.push(`${name} taint ${t.key}:${t.effect}`);
    if (n.metadata?.labels?.['kwok.x-k8s.io/node'] !== 'fake') out.push(`${name} heartbeats stopped`);
    for (const [k, v] of Object.entries(n.metadata?.labels ?? {})) if (k.includes('stage.kwok')) out.push(`${name} label ${k}=${v}`);
    for (const k of Object.keys(n.metadata?.annotations ?? {})) if (k.includes('kubeproof')) out.push(`${name} annotation ${k}`);
  }
  const sys = await kube.find('Namespace', 'kubeproof-system');
  if (sys) {
    for (const cm of (await kube.list('ConfigMap', { namespace: 'kubeproof-system', labelSelector: 'kubeproof.io/ledger=true' })).items) out.push(`ledger ${cm.metadata!.name}`);
    for (const l of (await kube.list('Lease', { namespace: 'kubeproof-system' })).items) out.push(`lease ${l.metadata!.name}`);
  }
  for (const ns of (await kube.list('Namespace', { labelSelector: 'kubeproof.io/run' })).items) if (!ns.metadata?.deletionTimestamp) out.push(`namespace ${ns.metadata!.name}`);
  return out.sort();
}

/** Wait (on node events, with a deadline) until the nodes are back, then compare everything with the baseline. */
async function expectClean(within = 30_000): Promise<void> {
  await until(
    {
      description: 'every node schedulable, untainted, heart-beating and without kubeproof annotations',
      sources: [nodes],
      evaluate: () => {
        const bad = nodes.list().filter((n) => n.spec?.unschedulable || n.spec?.taints?.length || n.metadata?.labels?.['kwok.x-k8s.io/node'] !== 'fake' || Object.keys(n.metadata?.annotations ?? {}).some((k) => k.includes('kubeproof')));
        return { ok: bad.length === 0, observed: bad.map((n) => n.metadata?.name).join(', ') || 'all clean' };
      },
    },
    { within },
  );
  assert.deepEqual(await traces(), baseline);
}

const FAULTS = `Feature: faults held until the runner is stopped
  Scenario: a blocked drain, a NoExecute taint and a silent node at once
    Given deployment "ledger" from "scenarios/drain/ledger.yaml" is ready
    When node "node-2" is tainted "cli-test=held:NoExecute"
    And node "node-3" stops sending heartbeats
    And node "node-1" is drained, giving up after 10 min
`;

/** The three faults of FAULTS, really in the cluster. */
function faultsInPlace(): Condition {
  return {
    description: 'node-1 cordoned, node-2 tainted, node-3 without heartbeats',
    sources: [nodes],
    evaluate: () => {
      const n = (x: string) => nodes.list().find((o) => o.metadata?.name === x);
      const state = [Boolean(n('node-1')?.spec?.unschedulable), Boolean(n('node-2')?.spec?.taints?.some((t) => t.key === 'cli-test')), n('node-3')?.metadata?.labels?.['kwok.x-k8s.io/node'] !== 'fake'];
      return { ok: state.every(Boolean), observed: `cordoned ${state[0]}, tainted ${state[1]}, silent ${state[2]}` };
    },
  };
}

describe('kubeproof CLI against a local cluster', { timeout: 900_000 }, () => {
  before(async () => {
    cluster = await new LocalProvider().up({ name, nodes: 3, zones: ['a', 'b', 'c'], log: (l) => process.stderr.write(`  [cluster] ${l}\n`) });
    kube = Kube.fromKubeconfig(cluster.kubeconfigPath);
    nodes = new Informer<Node>(kube, 'Node');
    await nodes.start();
    target = ['--cluster', 'existing', '--kubeconfig', cluster.kubeconfigPath, '--allow-context', cluster.context, '--reports', join(tmp, 'reports')];
    baseline = await traces();
  });

  after(async () => {
    await nodes?.stop();
    await cluster?.down();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('a misspelt word: exit 2, file:line and the closest step, nothing created', async () => {
    const f = feature('misspelt.feature', `Feature: typo\n  Scenario: one\n    Given deployment "web" from "scenarios/web" is ready\n    When node "node-1" is drainned\n`);
    const r = await kp(['run', f, ...target]);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /misspelt\.feature:4/);
    assert.match(r.out, /closest is "node \{string\} is drained"/);
    assert.deepEqual(await traces(), baseline);
  });

  it('an argument of the wrong type: exit 2 naming the argument and what it should be', async () => {
    const f = feature('argument.feature', `Feature: argument\n  Scenario: one\n    Given deployment "web" from "scenarios/web" is ready\n    Then within 30 parsecs 3 pods of deployment "web" are Ready\n`);
    const r = await kp(['run', f, ...target]);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /argument\.feature:4/);
    assert.match(r.out, /"30 parsecs" is not a \{duration\}/);
    assert.deepEqual(await traces(), baseline);
  });

  it('a broken manifest: exit 2 with the manifest file:line, and no object of it half-applied', async () => {
    const manifest = join(tmp, 'broken.yaml');
    writeFileSync(manifest, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: half\ndata:\n  a: b\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: broken\nspec:\n  replicas: three\n`);
    const f = feature('broken.feature', `Feature: broken\n  Scenario: one\n    Given the manifest "${manifest}" is applied\n`);
    const seen: string[] = [];
    const configMaps = new Informer<KubeObject>(kube, 'ConfigMap');
    configMaps.on((c) => seen.push(c.object.metadata?.name ?? ''));
    await configMaps.start();
    try {
      const r = await kp(['run', f, ...target]);
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, /broken\.yaml:\d+/);
      assert.match(r.out, /replicas/);
    } finally {
      await configMaps.stop();
    }
    assert.ok(!seen.includes('half'), 'the valid ConfigMap of a broken manifest was applied');
    assert.deepEqual(await traces(), baseline);
  });

  it('a context not on the allowlist: exit 2 before anything is written', async () => {
    const f = feature('ok.feature', `Feature: ok\n  Scenario: one\n    Given deployment "web" from "scenarios/web" is ready\n`);
    // A copy: the cluster's own kubeconfig would be recognised as kubeproof's local cluster (allowed).
    const copy = join(tmp, 'kubeconfig.yaml');
    copyFileSync(cluster.kubeconfigPath, copy);
    const r = await kp(['run', f, '--cluster', 'existing', '--kubeconfig', copy, '--reports', join(tmp, 'reports')]);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, new RegExp(`context "${cluster.context}" is not on the allowlist`));
    assert.match(r.out, /--allow-context/);
    assert.deepEqual(await traces(), baseline);
  });

  it('a failing scenario: exit 1 with expected, last seen and the recent Events', async () => {
    const f = feature('fails.feature', `Feature: fails\n  Scenario: expects a fourth pod\n    Given deployment "web" from "scenarios/web" is ready\n    Then within 3 s 4 pods of deployment "web" are Ready\n`);
    const r = await kp(['run', f, ...target]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /timed out after 3(?:\.0+)? s waiting for: 4 Ready pod/);
    assert.match(r.out, /last seen: .*3/);
    assert.match(r.out, /[Ee]vents/);
    assert.deepEqual(await traces(), baseline);
  });

  it('--plan on a drain prints the victims, the budgets and what stays up, and changes nothing (resourceVersions)', async () => {
    // A bystander outside the run, with pods on the node the plan would drain: nothing of it may change.
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bystander' } });
    await kube.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'keep', namespace: 'bystander' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'keep' } }, template: { metadata: { labels: { app: 'keep' } }, spec: { nodeSelector: { 'kubernetes.io/hostname': 'node-1' }, containers: [{ name: 'c', image: 'fake' }] } } },
    });
    await kube.create({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'keep', namespace: 'bystander' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'keep' } } } });
    const pods = new Informer<Pod>(kube, 'Pod', { namespace: 'bystander' });
    const budgets = new Informer<KubeObject>(kube, 'PodDisruptionBudget', { namespace: 'bystander' });
    await Promise.all([pods.start(), budgets.start()]);
    try {
      await until(
        {
          description: '2 Ready bystander pods, counted by their budget',
          sources: [pods, budgets],
          evaluate: () => {
            const ready = pods.list().filter((p) => podReady(p)).length;
            const healthy = (budgets.list()[0] as { status?: { currentHealthy?: number } } | undefined)?.status?.currentHealthy ?? 0;
            return { ok: ready === 2 && healthy === 2, observed: `${ready} Ready, budget counts ${healthy}` };
          },
        },
        { within: 30_000 },
      );
      const versions = () =>
        [...nodes.list(), ...pods.list(), ...budgets.list()].map((o) => `${o.kind ?? ''} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort();
      const before = versions();
      const f = feature('plan.feature', `Feature: plan\n  Scenario: drain\n    Given deployment "api" from "scenarios/drain/api.yaml" is ready\n    When node "node-1" is drained\n    Then the drain of node "node-1" completed within 60 s\n    When node "node-2" is tainted "plan=only:NoExecute"\n`);
      const r = await kp(['plan', f, ...target]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /drain node node-1: evict \d+ pod\(s\)/);
      assert.equal(r.out.match(/evict kp-[a-z0-9-]+\/api-\S+ \(ReplicaSet\/api-\S+\) — PDB api allows 1 disruption\(s\)/g)?.length, 3, r.out);
      assert.equal(r.out.match(/evict bystander\/keep-\S+ \(ReplicaSet\/keep-\S+\) — PDB keep allows 1 disruption\(s\)/g)?.length, 2, r.out);
      assert.match(r.out, /ReplicaSet\/api-\S+ keeps 0 of 3 pod\(s\) Ready on other nodes/);
      assert.match(r.out, /taint/i, 'a fault after a check is still planned');
      assert.match(r.out, /1 planned/);
      assert.deepEqual(versions(), before, 'plan mode wrote to a node, a pod or a budget it does not own');
    } finally {
      await Promise.all([pods.stop(), budgets.stop()]);
      await kube.delete('Namespace', 'bystander');
    }
    assert.deepEqual(await traces(), baseline);
  });

  it('--parallel 2 runs scenarios side by side, each in its own namespace, with every report', async () => {
    const reports = join(tmp, 'parallel');
    const r = await kp(['run', 'features/pod-kill.feature', ...target, '--parallel', '2', '--reports', reports]);
    assert.equal(r.code, 0, r.out);
    const summary = JSON.parse(readFileSync(join(reports, 'latest', 'summary.json'), 'utf8')) as { totals: { scenarios: number; passed: number }; scenarios: Array<{ data?: { namespace: string } }> };
    assert.ok(summary.totals.scenarios >= 5 && summary.totals.passed === summary.totals.scenarios, JSON.stringify(summary.totals));
    assert.equal(new Set(summary.scenarios.map((x) => x.data?.namespace)).size, summary.totals.scenarios);
    for (const f of ['cucumber.html', 'junit.xml', 'messages.ndjson', 'timeline.html']) assert.ok(existsSync(join(reports, 'latest', f)), `${f} missing`);
    assert.deepEqual(await traces(), baseline);
  });

  it('an existing cluster with configured node commands: a node stopped and started by them, and left as found', async () => {
    const kubectl = (await findBinaries())!.path('kubectl');
    const copy = join(tmp, 'existing-kubeconfig.yaml');
    copyFileSync(cluster.kubeconfigPath, copy);
    // Stopping a KWOK node's heartbeats by hand, as an ssh command would stop a kubelet.
    const config = join(tmp, 'node-commands.json');
    writeFileSync(config, JSON.stringify({
      allowContexts: [cluster.context],
      nodeCommands: { stop: `${kubectl} --kubeconfig ${copy} label node {node} kwok.x-k8s.io/node-`, start: `${kubectl} --kubeconfig ${copy} label --overwrite node {node} kwok.x-k8s.io/node=fake` },
    }));
    const f = feature('node-commands.feature', `Feature: node commands\n  Scenario: a node stopped by its command\n    Given deployment "web" from "scenarios/web" is ready\n    When node "node-2" stops sending heartbeats\n    Then within 30 s node "node-2" is Unknown\n`);
    const r = await kp(['run', f, '--cluster', 'existing', '--kubeconfig', copy, '--config', config, '--reports', join(tmp, 'reports')]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /node node-2 Ready=Unknown/);
    assert.match(r.out, /cluster left as found/);
    await expectClean();
  });

  it('Ctrl-C in the middle of a drain, a taint and a node failure: every fault undone, exit 130', async () => {
    const f = feature('faults.feature', FAULTS);
    const r = await stopMidFault(kubeproof(['run', f, ...target]), faultsInPlace(), 'SIGINT', 90_000);
    assert.equal(r.code, 130, r.out);
    await expectClean();
  });

  it('SIGKILL in the middle of the same faults: `kubeproof clean` undoes them all', async () => {
    const f = feature('faults.feature', FAULTS);
    const r = await stopMidFault(kubeproof(['run', f, ...target]), faultsInPlace(), 'SIGKILL', 90_000);
    assert.equal(r.signal, 'SIGKILL');
    assert.notDeepEqual(await traces(), baseline, 'a killed run left nothing to clean: the faults were not real');
    const c = await kp(['clean', '--kubeconfig', cluster.kubeconfigPath, '--context', cluster.context, '--allow-context', cluster.context]);
    assert.equal(c.code, 0, c.out);
    assert.match(c.out, /uncordon|drain node/);
    assert.match(c.out, /cleaned 1 run/);
    await expectClean();
  });
});
