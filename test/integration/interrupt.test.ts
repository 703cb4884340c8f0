/**
 * The runner killed at random moments, on one local cluster used as an existing cluster: for
 * every fault family that runs on KWOK nodes, a seeded moment after spawn (every other round
 * just after the fault is seen to land), then SIGINT (the runner undoes by itself) or SIGKILL
 * (then `kubeproof clean`), and the cluster compared with its state before — read from
 * watches of this test, not from the runner (interrupt-kit.ts).
 * KUBEPROOF_INTERRUPT_ITERATIONS raises the count (default 21: every family three times),
 * KUBEPROOF_INTERRUPT_SEED replays a schedule. The same cluster has the real node (where this
 * machine can run one: realNodeSkipReason; required under CI=true) for the real-node families —
 * kubelet stopped, container killed, readiness broken by exec — run by `--name`, each followed by
 * a comparison of the host too (KUBEPROOF_INTERRUPT_REAL_ITERATIONS, default 3: each family once,
 * aimed just after its fault). kind's node faults are interrupted in kind.test.ts, on the kind
 * cluster it makes anyway. Also here, on the same cluster: what a kill can
 * leave that `clean` must still find (an emptied ledger, a Lease without a ledger), and two
 * runs side by side, neither undoing the other's faults, `clean --run ID` touching one.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LocalProvider, type LocalCluster } from '../../src/cluster/providers/local.js';
import { Kube } from '../../src/kube/client.js';
import { until } from '../../src/wait/until.js';
import { nodeReadyCondition } from '../../src/cluster/nodes.js';
import { ensureLocalImages } from '../../src/cluster/build/images.js';
import type { KubeObject, Node } from '../../src/kube/types.js';
import { kubeproof, stopMidFault, realNodeSkipReason } from './harness.js';
import { hostSnapshot } from './host-snapshot.js';
import { ClusterState, FAMILIES, REAL_FAMILIES, Spans, describeAttempt, hostLines, interruptOnce, realNodeBaseline, schedule, seedFromEnv, writeFeatures, type Attempt, type Plan, type Target } from './interrupt-kit.js';
import { deadPid } from '../unit/pids.js';

const tmp = mkdtempSync(join(tmpdir(), 'kubeproof-interrupt-'));
const name = `int-${randomBytes(2).toString('hex')}`;
const iterations = Number(process.env.KUBEPROOF_INTERRUPT_ITERATIONS ?? 21);
const seed = seedFromEnv();
const plans = schedule(seed, iterations);
const realSkip = await realNodeSkipReason();
if (realSkip) process.stderr.write(`  interrupt: real-node families SKIPPED: ${realSkip}\n`);
const realPlans = schedule(seed + 1, Number(process.env.KUBEPROOF_INTERRUPT_REAL_ITERATIONS ?? REAL_FAMILIES.length), REAL_FAMILIES);
let hostBefore: Record<string, string[]> | undefined;
let realTarget: Target;
let cluster: LocalCluster;
let kube: Kube;
let state: ClusterState;
let baseline: string[];
let target: Target;
let features: Map<string, string>;
const attempts: Attempt[] = [];
const spans = new Spans();

const kp = (args: string[]) => kubeproof(args).done;
const QUICK = `Feature: quick\n  Scenario: one\n    Given a cluster with at least 3 Ready nodes\n`;
const clusterArgs = () => ['--cluster', 'existing', '--kubeconfig', target.kubeconfig, '--allow-context', target.context, '--reports', target.reports];
const cleanArgs = () => ['--kubeconfig', target.kubeconfig, '--context', target.context, '--allow-context', target.context];

function feature(file: string, text: string): string {
  const path = join(tmp, file);
  writeFileSync(path, text);
  return path;
}


describe(`kubeproof run interrupted at random moments (seed ${seed}, ${iterations} iterations)`, { timeout: 3_600_000 }, () => {
  before(async () => {
    process.stderr.write(`  interrupt seed ${seed} (KUBEPROOF_INTERRUPT_SEED=${seed} replays it)\n`);
    const log = (l: string) => process.stderr.write(`  [cluster] ${l}\n`);
    if (!realSkip) {
      await ensureLocalImages({ log });
      hostBefore = await hostSnapshot();
    }
    cluster = await new LocalProvider().up({ name, nodes: 3, zones: ['a', 'b', 'c'], realNodes: realSkip ? 0 : 1, log });
    kube = Kube.fromKubeconfig(cluster.kubeconfigPath);
    state = new ClusterState(kube);
    await state.start();
    target = { kubeconfig: cluster.kubeconfigPath, context: cluster.context, reports: join(tmp, 'reports') };
    features = writeFeatures(tmp);
    // The baseline once the node-lifecycle controller has lifted its start-up taints (it may lag a real node's Ready).
    await until(
      {
        description: 'every node Ready without node.kubernetes.io taints',
        sources: [state.nodes],
        evaluate: () => {
          const bad = state.nodes.list().filter((n) => nodeReadyCondition(n) !== 'True' || (n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/')));
          return { ok: bad.length === 0, observed: bad.map((n) => `${n.metadata?.name}: ${(n.spec?.taints ?? []).map((t) => t.key).join(',')}`).join('; ') || 'settled' };
        },
      },
      { within: 60_000 },
    );
    baseline = state.lines();
    if (!realSkip) {
      realTarget = { ...target, name, outside: { what: 'the host', lines: hostLines, before: [] } };
      realTarget.outside!.before = await realNodeBaseline(state, realTarget, tmp);
    }
  });

  after(async () => {
    await state?.stop();
    await cluster?.down();
    rmSync(tmp, { recursive: true, force: true });
    if (cluster && hostBefore) assert.deepEqual(await hostSnapshot(), hostBefore, 'the host differs from before cluster up');
  });

  /** What a SIGKILL between forgetting a run's last record (a merge patch) and deleting the emptied ConfigMap leaves. */
  async function emptyLedger(run: string): Promise<void> {
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kubeproof-system' } }).catch(() => undefined);
    await kube.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `ledger-${run}`, namespace: 'kubeproof-system', labels: { 'kubeproof.io/ledger': 'true', 'kubeproof.io/run': run } }, data: {} } as KubeObject);
  }

  /** What a run SIGKILLed after taking its Lease and before its first fault leaves (its holder: a pid that is no process now). */
  async function loneLease(run: string): Promise<void> {
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kubeproof-system' } }).catch(() => undefined);
    await kube.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: `run-${run}`, namespace: 'kubeproof-system', labels: { 'kubeproof.io/run': run } },
      spec: { holderIdentity: `${hostname()}/${deadPid()}`, leaseDurationSeconds: 30, renewTime: new Date().toISOString().replace('Z', '000Z') },
    } as KubeObject);
  }

  it('an emptied ledger that outlived its process is removed by `clean --all`, by a bare `clean` and by the next run', async () => {
    await emptyLedger('20250101-000000-dead1');
    const c = await kp(['clean', '--all', ...cleanArgs()]);
    assert.equal(c.code, 0, c.out);
    assert.deepEqual(await state.settle(baseline, 10_000), [], `clean --all left an empty ledger:\n${c.out}`);
    await emptyLedger('20250101-000000-dead2');
    const c2 = await kp(['clean', ...cleanArgs()]);
    assert.equal(c2.code, 0, c2.out);
    assert.deepEqual(await state.settle(baseline, 10_000), [], `clean left an empty ledger:\n${c2.out}`);
    await emptyLedger('20250101-000000-dead3');
    const r = await kp(['run', feature('quick.feature', QUICK), ...clusterArgs()]);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(await state.settle(baseline, 30_000), [], `the next run left an empty ledger:\n${r.out}`);
  });

  it('a run SIGKILLed before its first fault (a Lease and a namespace, no ledger): `clean` removes both', async () => {
    const f = feature('slow-start.feature', `Feature: killed early\n  Scenario: one\n    Given deployment "web" from "scenarios/web" is ready\n    Then for 30 s at least 1 pod of deployment "web" stay Ready\n`);
    const r = await stopMidFault(
      kubeproof(['run', f, ...clusterArgs()]),
      {
        description: "the run's Lease and namespace exist",
        sources: [state.leases, state.namespaces],
        evaluate: () => {
          const ns = state.namespaces.list().some((n) => n.metadata?.labels?.['kubeproof.io/run'] && !n.metadata.deletionTimestamp);
          return { ok: state.leases.list().length > 0 && ns, observed: `${state.leases.list().length} Lease(s), namespace ${ns}` };
        },
      },
      'SIGKILL',
      60_000,
    );
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(state.ledgers.list().length, 0, 'a fault was recorded: the kill came too late for this test');
    const c = await kp(['clean', ...cleanArgs()]);
    assert.equal(c.code, 0, c.out);
    assert.doesNotMatch(c.out, /nothing to clean/);
    assert.deepEqual(await state.settle(baseline, 60_000), [], c.out);
  });

  it("a Lease held by a dead process, with nothing else, goes with `clean --all` and at the next run's start", async () => {
    await loneLease('20250101-000000-lone1');
    const c = await kp(['clean', '--all', ...cleanArgs()]);
    assert.equal(c.code, 0, c.out);
    assert.deepEqual(await state.settle(baseline, 10_000), [], c.out);
    await loneLease('20250101-000000-lone2');
    const r = await kp(['run', feature('quick.feature', QUICK), ...clusterArgs()]);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(await state.settle(baseline, 30_000), [], r.out);
  });

  it('two runs side by side: neither undoes the other, and `clean --run ID` finishes only that run', async () => {
    const a = feature('run-a.feature', `Feature: run A\n  Scenario: A holds a taint and a readiness break\n    Given deployment "web" from "scenarios/web" is ready\n    When node "node-1" is tainted "run-a=held:NoSchedule"\n    And 1 pod of deployment "web" fails readiness\n    Then for 10 min at least 1 pod of deployment "web" stay Running\n`);
    const b = feature('run-b.feature', `Feature: run B\n  Scenario: B taints, labels and patches nodes and breaks readiness, then ends\n    Given deployment "web" from "scenarios/web" is ready\n    When node "node-2" is tainted "run-b=held:NoSchedule"\n    And node "node-3" is labelled "run-b/held=yes"\n    And 1 pod of deployment "web" fails readiness\n    Then for 3 s at least 1 pod of deployment "web" stay Running\n`);
    /** Read from the API server, not a cache: whether run A's faults are there. */
    const aInPlace = async () => {
      const tainted = Boolean((await kube.get<Node>('Node', 'node-1')).spec?.taints?.some((t) => t.key === 'run-a'));
      const unready = (await kube.list('Pod', { labelSelector: 'kubeproof.io/unready=true' })).items.map((p) => p.metadata!.namespace!);
      return { tainted, unready };
    };
    const runA = kubeproof(['run', a, ...clusterArgs()]);
    try {
      await until(
        {
          description: "run A's taint and readiness break in place",
          sources: [state.nodes, state.pods],
          evaluate: () => {
            const ok = Boolean(state.nodes.get('node-1')?.spec?.taints?.some((t) => t.key === 'run-a')) && state.pods.list().some((p) => p.metadata?.labels?.['kubeproof.io/unready'] === 'true');
            return { ok, observed: `A in place: ${ok}` };
          },
        },
        { within: 90_000 },
      );
      const aNamespace = state.pods.list().find((p) => p.metadata?.labels?.['kubeproof.io/unready'] === 'true')!.metadata!.namespace!;
      const aRun = state.namespaces.get(aNamespace)!.metadata!.labels!['kubeproof.io/run']!;
      const aFaults = { tainted: true, unready: [aNamespace] };
      // B starts and ends while A lives: B's start leaves A's faults alone (A's Lease is renewed), B's end undoes only B's own.
      const rb = await kp(['run', b, ...clusterArgs()]);
      assert.equal(rb.code, 0, rb.out);
      assert.deepEqual(await aInPlace(), aFaults, "run B undid run A's faults");
      const n2 = await kube.get<Node>('Node', 'node-2');
      const n3 = await kube.get<Node>('Node', 'node-3');
      assert.ok(!n2.spec?.taints?.some((t) => t.key === 'run-b') && !n3.metadata?.labels?.['run-b/held'], "run B's own faults are still there");
      // A bare `clean` leaves a live run alone; so does `clean --run` of another id.
      const c0 = await kp(['clean', ...cleanArgs()]);
      assert.equal(c0.code, 0, c0.out);
      assert.match(c0.out, /left alone: 1 live run/);
      assert.deepEqual(await aInPlace(), aFaults, "a bare clean undid a live run's faults");
      const c1 = await kp(['clean', '--run', '20250101-000000-other', ...cleanArgs()]);
      assert.equal(c1.code, 0, c1.out);
      assert.deepEqual(await aInPlace(), aFaults, "clean --run <another id> undid run A's faults");
      // `clean --run A` takes A (even while it runs: what --run is for) and nothing else.
      await until(
        {
          description: "no namespace of a run other than A's",
          sources: [state.namespaces],
          evaluate: () => {
            const others = state.namespaces.list().filter((n) => n.metadata?.labels?.['kubeproof.io/run'] && n.metadata.labels['kubeproof.io/run'] !== aRun);
            return { ok: others.length === 0, observed: others.map((n) => n.metadata!.name).join(', ') };
          },
        },
        { within: 60_000 },
      );
      const before = state.lines();
      const c2 = await kp(['clean', '--run', aRun, ...cleanArgs()]);
      assert.equal(c2.code, 0, c2.out);
      assert.match(c2.out, /removed taint run-a/);
      assert.deepEqual(await aInPlace(), { tainted: false, unready: [] }, c2.out);
      const mine = (l: string) => l.includes(aRun.toLowerCase()) || l.includes(aRun) || l.includes(aNamespace) || l.includes('run-a');
      assert.deepEqual(ClusterState.diff(before, state.lines()).filter((l) => !mine(l)), [], 'clean --run A changed something that was not run A');
    } finally {
      runA.child.kill('SIGINT');
      await runA.done;
    }
    assert.deepEqual(await state.settle(baseline, 60_000), []);
  });

  const when = (plan: Plan) => (plan.aim === 'after-fault' ? `${(plan.fraction * 3).toFixed(1)} s after its fault landed` : `${Math.round(plan.fraction * 100)}% into the run`);

  realPlans.forEach((plan, i) => {
    it(`real #${i} ${plan.family.name}: ${plan.signal} ${when(plan)}${plan.signal === 'SIGKILL' ? ', then clean' : ''}: cluster and host left as found`, { skip: realSkip || undefined }, async () => {
      const a = await interruptOnce(state, baseline, features.get(plan.family.name)!, plan, spans.delay(plan), realTarget);
      attempts.push(a);
      spans.learn(a);
      process.stderr.write(`  ${describeAttempt(a, i)}\n`);
      if (a.leftovers.length) {
        await kp(['clean', '--all', '--name', name]);
        await state.settle(baseline, 30_000);
        baseline = state.lines();
        realTarget.outside!.before = await hostLines();
      }
      assert.deepEqual(a.leftovers, [], `seed ${seed}, real iteration ${i}: left behind\n${a.run.out.slice(-3000)}\n${a.clean?.out ?? ''}`);
      if (a.interrupted && plan.signal === 'SIGINT') assert.ok(a.run.code === 130 || a.run.signal === 'SIGINT', `exit ${a.run.code} ${a.run.signal}\n${a.run.out.slice(-3000)}`);
      if (a.clean) assert.equal(a.clean.code, 0, a.clean.out);
      // A run that ended by itself must have passed: a scenario that fails on the real node tests nothing here.
      if (!a.interrupted) assert.equal(a.run.code, 0, a.run.out.slice(-3000));
    });
  });

  plans.forEach((plan, i) => {
    it(`#${i} ${plan.family.name}: ${plan.signal} ${when(plan)}${plan.signal === 'SIGKILL' ? ', then clean' : ''}: left as found`, async () => {
      const a = await interruptOnce(state, baseline, features.get(plan.family.name)!, plan, spans.delay(plan), target);
      attempts.push(a);
      spans.learn(a);
      process.stderr.write(`  ${describeAttempt(a, i)}\n`);
      if (a.leftovers.length) {
        // The next iterations start from what is there now, so each is judged on its own.
        await kp(['clean', '--all', ...cleanArgs()]);
        await state.settle(baseline, 30_000);
        baseline = state.lines();
      }
      assert.deepEqual(a.leftovers, [], `seed ${seed}, iteration ${i}: left behind\n${a.run.out.slice(-3000)}\n${a.clean?.out ?? ''}`);
      // Before the runner installs its handler (still reading the features) Node's own SIGINT ends it: the shell sees 130 either way.
      if (a.interrupted && plan.signal === 'SIGINT') assert.ok(a.run.code === 130 || a.run.signal === 'SIGINT', `exit ${a.run.code} ${a.run.signal}\n${a.run.out.slice(-3000)}`);
      if (a.clean) assert.equal(a.clean.code, 0, a.clean.out);
    });
  });

  it('the kills aimed after a fault caught it in place, in every family that leaves a mark (an experiment that never caught a fault proves nothing)', { skip: iterations === 0 }, () => {
    const kwok = new Set(FAMILIES.map((f) => f.name));
    // A KWOK family's fault is a change to a node or pod; a real-node family's as its `landed` says (a container kill: a restart).
    const inPlace = (a: Attempt) => a.interrupted && (kwok.has(a.family) ? a.atKill.some((l) => /^\+ (node|pod) /.test(l)) : a.landedAtKill);
    const aimed = attempts.filter((a) => a.aim === 'after-fault' && a.family !== 'pod-kill');
    process.stderr.write(`  ${attempts.filter(inPlace).length} of ${attempts.length} kills came with a change to a node or pod in place (${aimed.filter(inPlace).length} of ${aimed.length} aimed after a fault)\n`);
    assert.deepEqual(aimed.filter((a) => !inPlace(a)).map((a) => `${a.family} ${a.signal} ${a.delayMs} ms after: ${a.interrupted ? 'nothing in place' : 'the run had ended'}`), []);
    const caught = new Set(aimed.filter(inPlace).map((a) => a.family));
    const ran = [...FAMILIES, ...(realSkip ? [] : REAL_FAMILIES.filter((f) => realPlans.some((p) => p.family === f && p.aim === 'after-fault')))];
    assert.deepEqual(ran.filter((f) => f.name !== 'pod-kill' && !caught.has(f.name)).map((f) => f.name), [], 'families never caught mid-fault');
  });
});
