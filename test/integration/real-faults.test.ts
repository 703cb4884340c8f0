/**
 * Real-node faults survive the death of the run that made them: `kubeproof run` breaks a real
 * container's readiness (exec) or stops the real node's kubelet, is SIGKILLed, and
 * `kubeproof clean` — another process — undoes them from the ledger (exec `/testapp ready on`,
 * start the kubelet again from its recorded command line). Then the nodes are as before, and
 * after `cluster down` so is the host (processes, mounts, links, iptables chains, dirs).
 * Also on the real kubelet: the failing-rollout claims of features/real-rollout.feature made
 * false — the old pods do not keep serving a rollout allowed to take 2 of them down, and a
 * rollout to a version that becomes ready does not stall — each failing with what it saw,
 * beside the true claim.
 * Needs root and the real-node packages; skipped (with the reason) without them.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LocalProvider, type LocalCluster } from '../../src/cluster/providers/local.js';
import { Kube } from '../../src/kube/client.js';
import { Informer } from '../../src/kube/informer.js';
import { until, type Condition } from '../../src/wait/until.js';
import { podReady } from '../../src/timeline/timeline.js';
import { nodeReadyCondition } from '../../src/cluster/nodes.js';
import { kubeletPid } from '../../src/cluster/real-node/kubelet.js';
import { ensureLocalImages } from '../../src/cluster/build/images.js';
import type { Node, Pod } from '../../src/kube/types.js';
import { hostSnapshot } from './host-snapshot.js';
import { kubeproof, stopMidFault, realNodeSkipReason } from './harness.js';

const say = (l: string) => process.stderr.write(`  [real-faults] ${l}\n`);

const skip = await realNodeSkipReason();
if (skip) say(`SKIPPED: ${skip}`);

const tmp = mkdtempSync(join(tmpdir(), 'kubeproof-real-faults-'));
const name = `rf-${randomBytes(2).toString('hex')}`;
let cluster: LocalCluster;
let kube: Kube;
let nodes: Informer<Node>;
let pods: Informer<Pod>;
let hostBefore: Record<string, string[]>;
let nodesBefore: string[];
let kubeletBefore: number | undefined;


/** The nodes as the run must leave them: schedulability, taints, labels, kubeproof annotations, Ready. */
function nodeState(): string[] {
  return nodes
    .list()
    .flatMap((n) => {
      const id = n.metadata!.name!;
      return [
        `${id} Ready=${nodeReadyCondition(n)}`,
        ...(n.spec?.unschedulable ? [`${id} cordoned`] : []),
        ...(n.spec?.taints ?? []).map((t) => `${id} taint ${t.key}:${t.effect}`),
        ...Object.entries(n.metadata?.labels ?? {}).map(([k, v]) => `${id} label ${k}=${v}`),
        ...Object.keys(n.metadata?.annotations ?? {}).filter((k) => k.includes('kubeproof')).map((k) => `${id} annotation ${k}`),
      ];
    })
    .sort();
}

/** Run `text` as a feature, wait (on watch events) until `inPlace` holds, SIGKILL the run, then `kubeproof clean`. */
async function killMidFaultThenClean(file: string, text: string, inPlace: Condition): Promise<string> {
  const path = join(tmp, file);
  writeFileSync(path, text);
  const r = await stopMidFault(kubeproof(['run', path, '--name', name, '--reports', join(tmp, 'reports')]), inPlace, 'SIGKILL');
  assert.equal(r.signal, 'SIGKILL');
  const c = await kubeproof(['clean', '--name', name]).done;
  say(`kubeproof clean:\n${c.out.trim().split('\n').map((l) => `      ${l}`).join('\n')}`);
  assert.equal(c.code, 0, c.out);
  return c.out;
}

/** Run `text`, wait until `inPlace` holds, then Ctrl-C (SIGINT): the run undoes its own faults and exits 130. */
async function interruptMidFault(file: string, text: string, inPlace: Condition): Promise<string> {
  const path = join(tmp, file);
  writeFileSync(path, text);
  const r = await stopMidFault(kubeproof(['run', path, '--name', name, '--reports', join(tmp, 'reports')]), inPlace, 'SIGINT');
  assert.equal(r.code, 130, r.out);
  return r.out;
}

/** Wait (on node events) until the nodes are as before the runs. */
async function nodesAsBefore(): Promise<void> {
  await until(
    {
      description: 'every node as before the run (Ready, taints, labels, annotations)',
      sources: [nodes],
      evaluate: () => {
        const now = nodeState();
        const diff = [...now.filter((x) => !nodesBefore.includes(x)).map((x) => `+ ${x}`), ...nodesBefore.filter((x) => !now.includes(x)).map((x) => `- ${x}`)];
        return { ok: diff.length === 0, observed: diff.join('; ') || 'as before' };
      },
    },
    { within: 60_000 },
  );
}

const HOLD = '    Then within 10 min node "node-1" is Unknown\n';

describe('real-node faults undone by kubeproof clean after SIGKILL', { skip: skip || undefined, timeout: 600_000 }, () => {
  before(async () => {
    await ensureLocalImages({ log: say });
    hostBefore = await hostSnapshot();
    cluster = await new LocalProvider().up({ name, nodes: 3, realNodes: 1, log: say });
    kube = Kube.fromKubeconfig(cluster.kubeconfigPath);
    nodes = new Informer<Node>(kube, 'Node');
    pods = new Informer<Pod>(kube, 'Pod', { labelSelector: 'app=app' });
    await Promise.all([nodes.start(), pods.start()]);
    // The baseline once the node-lifecycle controller has lifted its start-up taints (it may lag the node's Ready).
    await until(
      {
        description: 'every node Ready without node.kubernetes.io taints',
        sources: [nodes],
        evaluate: () => {
          const bad = nodes.list().filter((n) => nodeReadyCondition(n) !== 'True' || (n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/')));
          return { ok: bad.length === 0, observed: bad.map((n) => `${n.metadata?.name}: ${(n.spec?.taints ?? []).map((t) => t.key).join(',')}`).join('; ') || 'settled' };
        },
      },
      { within: 30_000 },
    );
    nodesBefore = nodeState();
    kubeletBefore = await kubeletPid(name);
    assert.ok(kubeletBefore, 'the real node has no running kubelet');
  });

  after(async () => {
    await Promise.all([nodes?.stop(), pods?.stop()]);
    if (cluster) await cluster.down();
    rmSync(tmp, { recursive: true, force: true });
    if (cluster) assert.deepEqual(await hostSnapshot(), hostBefore, 'the host differs from before cluster up');
  });

  it('a real readiness break (exec) is undone by clean: /testapp ready on', async () => {
    const out = await killMidFaultThenClean(
      'readiness.feature',
      `Feature: held\n  Scenario: readiness off\n    Given a real node\n    And deployment "app" from "scenarios/real/app.yaml" is ready\n    When 1 pod of deployment "app" fails readiness\n${HOLD}`,
      {
        description: 'a pod of app not Ready (its readiness switched off)',
        sources: [pods],
        evaluate: () => {
          const ps = pods.list().filter((p) => !p.metadata?.deletionTimestamp);
          const unready = ps.filter((p) => p.status?.phase === 'Running' && !podReady(p) && Object.keys(p.metadata?.annotations ?? {}).some((k) => k.startsWith('fault.kubeproof.io/')));
          return { ok: unready.length === 1, observed: ps.map((p) => `${p.metadata?.name} ${podReady(p) ? 'Ready' : 'not Ready'}`).join(', ') || 'no pods' };
        },
      },
    );
    assert.match(out, /ran \/testapp ready on in pod/);
    assert.match(out, /cleaned 1 run/);
    await nodesAsBefore();
  });

  it('the failing-rollout claims made false on the real kubelet fail with what they saw; the true one passes', async () => {
    const path = join(tmp, 'rollout-myths.feature');
    writeFileSync(
      path,
      `Feature: failing-rollout claims on a real kubelet
  Background:
    Given a real node
    And deployment "app" from "scenarios/real/app.yaml" is ready

  Scenario: myth: the old pods keep serving a rollout allowed to take 2 of them down
    When deployment "app" is patched with:
      """
      spec:
        strategy:
          rollingUpdate:
            maxSurge: 0
            maxUnavailable: 2
      """
    And deployment "app" rolls out a version that never becomes ready
    Then for 3 s the old pods of deployment "app" keep at least 3 ready endpoints in service "app"

  Scenario: myth: a rollout to a version that becomes ready stalls
    When deployment "app" is patched with:
      """
      spec:
        template:
          metadata:
            annotations:
              example.com/version: "2"
      """
    Then the rollout of deployment "app" stalls for 10 s

  Scenario: fact: a version that never becomes ready stalls, the old pods serving
    When deployment "app" rolls out a version that never becomes ready
    Then the rollout of deployment "app" stalls for 3 s
    And for 3 s the old pods of deployment "app" keep at least 3 ready endpoints in service "app"
`,
    );
    const reports = join(tmp, 'reports-rollout');
    const r = await kubeproof(['run', path, '--name', name, '--reports', reports]).done;
    assert.equal(r.code, 1, r.out);
    const summary = JSON.parse(readFileSync(join(reports, 'latest', 'summary.json'), 'utf8')) as { scenarios: Array<{ name: string; status: string; error?: string }> };
    const scenario = (prefix: string) => {
      const x = summary.scenarios.find((sc) => sc.name.startsWith(prefix));
      assert.ok(x, `no scenario "${prefix}…" in ${r.out}`);
      return x;
    };
    const failed = (prefix: string, error: RegExp) => {
      const x = scenario(prefix);
      assert.equal(x.status, 'failed', `${prefix}: ${x.error ?? r.out}`);
      assert.match(x.error ?? '', error, prefix);
    };
    failed('myth: the old pods keep serving', /at least 3 old pod\(s\) of deployment app are ready endpoints of service app[\s\S]*[01] old pod\(s\) ready endpoints: (none|app-)/);
    failed('myth: a rollout to a version that becomes ready', /stopped holding after .*: the rollout of deployment app stalls[\s\S]*new app-\w+ \(revision 2\): \d pod\(s\), [1-3] Ready/);
    const fact = scenario('fact: a version that never becomes ready');
    assert.equal(fact.status, 'passed', fact.error);
    await nodesAsBefore();
  });

  it('a stopped kubelet is started again by clean, from its recorded command line', async () => {
    const out = await killMidFaultThenClean(
      'kubelet.feature',
      `Feature: held\n  Scenario: kubelet stopped\n    Given a real node\n    When the kubelet of node "real-1" is stopped\n${HOLD}`,
      {
        description: 'node real-1 Unknown (its kubelet stopped)',
        sources: [nodes],
        evaluate: () => {
          const r = nodeReadyCondition(nodes.get('real-1'));
          return { ok: r === 'Unknown', observed: `Ready=${r}` };
        },
      },
    );
    assert.match(out, /started the kubelet of node real-1 again/);
    const pid = await kubeletPid(name);
    assert.ok(pid && pid !== kubeletBefore, `the kubelet is not running again (pid ${pid})`);
    await nodesAsBefore();
  });

  it('Ctrl-C with readiness broken and the kubelet stopped: the run undoes both itself (exit 130)', async () => {
    const out = await interruptMidFault(
      'both.feature',
      `Feature: held\n  Scenario: both\n    Given a real node\n    And deployment "failover" from "scenarios/real/failover.yaml" is ready\n    When 1 pod of deployment "failover" fails readiness\n    And the kubelet of node "real-1" is stopped\n${HOLD}`,
      {
        description: 'node real-1 Unknown',
        sources: [nodes],
        evaluate: () => {
          const r = nodeReadyCondition(nodes.get('real-1'));
          return { ok: r === 'Unknown', observed: `Ready=${r}` };
        },
      },
    );
    say(`interrupted run:\n${out.trim().split('\n').filter((l) => /undo|SIGINT/.test(l)).map((l) => `      ${l}`).join('\n')}`);
    assert.match(out, /started the kubelet of node real-1 again/);
    assert.ok(await kubeletPid(name), 'the kubelet is not running again');
    await nodesAsBefore();
    const c = await kubeproof(['clean', '--name', name]).done;
    assert.match(c.out, /nothing to clean/, c.out);
  });
});
