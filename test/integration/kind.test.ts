/**
 * A real kind cluster (kubeproof's offline node image, 3 workers): the runner SIGKILLed while
 * a `docker stop` fault holds a node down leaves the undo in the ledger, and `kubeproof clean`
 * starts the node's container again; kind's node faults (docker stop, the freeze, systemctl stop
 * kubelet) interrupted at seeded moments with SIGINT or SIGKILL + clean, as interrupt.test.ts
 * does for KWOK and the real node (KUBEPROOF_INTERRUPT_KIND_ITERATIONS, default 3: each family
 * once, just after its fault lands), the cluster and the node containers (state, kubelet,
 * stopped processes) compared with before each; `cluster down --cluster kind` then leaves no container,
 * no kind network and no mount behind. Needs a Docker engine (.ci/run starts one with
 * scripts/docker-engine.sh); without one the test is skipped, except under CI=true.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Kube } from '../../src/kube/client.js';
import { Informer } from '../../src/kube/informer.js';
import { until } from '../../src/wait/until.js';
import { kindKubeconfigPath } from '../../src/cluster/providers/kind.js';
import { nodeReadyCondition } from '../../src/cluster/nodes.js';
import type { KubeObject, Node } from '../../src/kube/types.js';
import { kubeproof, stopMidFault } from './harness.js';
import { ClusterState, KIND_FAMILIES, Spans, describeAttempt, interruptOnce, kindNodeLines, schedule, seedFromEnv, writeFeatures, type Attempt, type Target } from './interrupt-kit.js';

const engine = spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;
if (!engine && process.env.CI === 'true') throw new Error('no Docker engine answers (docker info failed); under CI=true the kind test is required');
const skip = engine ? false : 'no Docker engine answers (docker info failed): start one, e.g. scripts/docker-engine.sh start';

const tmp = mkdtempSync(join(tmpdir(), 'kubeproof-kind-'));
const name = `kt-${randomBytes(2).toString('hex')}`;
let kube: Kube;
let nodes: Informer<Node>;
let networkBefore = false;
let libModulesBefore = true;

const seed = seedFromEnv();
const kindPlans = schedule(seed, Number(process.env.KUBEPROOF_INTERRUPT_KIND_ITERATIONS ?? KIND_FAMILIES.length), KIND_FAMILIES);
let state: ClusterState | undefined;

const docker = (...args: string[]) => spawnSync('docker', args, { encoding: 'utf8' });
const containers = () => docker('ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${name}`, '--format', '{{.Names}} {{.State}}').stdout.trim().split('\n').filter(Boolean);

describe('kind: a real cluster', { skip, timeout: 900_000 }, () => {
  before(async () => {
    networkBefore = docker('network', 'inspect', 'kind').status === 0;
    libModulesBefore = existsSync('/lib/modules');
    const up = await kubeproof(['cluster', 'up', '--cluster', 'kind', '--name', name, '--nodes', '3', '--kind-image', process.env.KUBEPROOF_KIND_IMAGE ?? 'offline']).done;
    assert.equal(up.code, 0, up.out);
    kube = Kube.fromKubeconfig(kindKubeconfigPath(name), `kind-${name}`);
    nodes = new Informer<Node>(kube, 'Node');
    await nodes.start();
  });

  after(async () => {
    await nodes?.stop();
    await state?.stop();
    await kubeproof(['cluster', 'down', '--cluster', 'kind', '--name', name]).done;
    rmSync(tmp, { recursive: true, force: true });
  });

  it('SIGKILL while docker stop holds node-2 down: kubeproof clean starts its container again and it is Ready', async () => {
    const f = join(tmp, 'down.feature');
    writeFileSync(
      f,
      `Feature: a node held down\n  Scenario: node-2 stopped until the runner is killed\n    Given a cluster with at least 3 Ready nodes\n    And deployment "web" from "scenarios/web" is ready\n    When node "node-2" stops sending heartbeats\n    Then for 10 min at least 1 pod of deployment "web" stay Ready\n`,
    );
    const run = kubeproof(['run', f, '--cluster', 'existing', '--kubeconfig', kindKubeconfigPath(name), '--context', `kind-${name}`, '--reports', join(tmp, 'reports')]);
    const stopped = { description: `node-2's container stopped`, sources: [nodes], evaluate: () => {
      const state = containers().find((c) => c.startsWith(`${name}-worker2 `));
      return { ok: Boolean(state?.endsWith('exited')), observed: state ?? 'no container' };
    } };
    const r = await stopMidFault(run, stopped, 'SIGKILL', 180_000).catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}\n${(await run.done).out}`);
    });
    assert.equal(r.signal, 'SIGKILL');
    assert.match(containers().find((c) => c.startsWith(`${name}-worker2 `)) ?? '', /exited/, 'the fault was not really injected');
    const c = await kubeproof(['clean', '--kubeconfig', kindKubeconfigPath(name), '--context', `kind-${name}`]).done;
    assert.equal(c.code, 0, c.out);
    assert.match(c.out, /stop node of Node\/node-2: reverted — ran .*docker start/);
    assert.match(containers().find((x) => x.startsWith(`${name}-worker2 `)) ?? '', /running/);
    await until({ description: 'node-2 Ready again', sources: [nodes], evaluate: () => ({ ok: nodeReadyCondition(nodes.get('node-2')) === 'True', observed: nodeReadyCondition(nodes.get('node-2')) ?? 'unknown' }) }, { within: 120_000 });
  });

  describe(`interrupted at seeded moments (seed ${seed}, KUBEPROOF_INTERRUPT_SEED replays it)`, () => {
    let baseline: string[];
    let target: Target;
    let features: Map<string, string>;
    const spans = new Spans();
    const attempts: Attempt[] = [];

    before(async () => {
      state = new ClusterState(kube);
      await state.start();
      // A node can still look Ready while its kubelet is only starting (node-2's container was just started again, its old
      // status not yet expired): first a heartbeat from every kubelet after now (their Leases renewed, on watch events), then
      // every node Ready without node.kubernetes.io taints, then the baseline.
      const since = Date.now();
      const leases = new Informer<KubeObject>(kube, 'Lease', { namespace: 'kube-node-lease' });
      try {
        await until(
          {
            description: "every node's kubelet renewed its Lease",
            sources: [leases],
            evaluate: () => {
              const stale = state!.nodes.list().map((n) => n.metadata!.name!).filter((n) => {
                const renewed = (leases.get(n, 'kube-node-lease') as { spec?: { renewTime?: string } } | undefined)?.spec?.renewTime;
                return !renewed || Date.parse(renewed) <= since;
              });
              return { ok: stale.length === 0, observed: `not yet: ${stale.join(', ')}` };
            },
          },
          { within: 120_000 },
        );
      } finally {
        await leases.stop();
      }
      await until(
        {
          description: 'every node Ready without node.kubernetes.io taints',
          sources: [state.nodes],
          evaluate: () => {
            const bad = state!.nodes.list().filter((n) => nodeReadyCondition(n) !== 'True' || (n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/')));
            return { ok: bad.length === 0, observed: bad.map((n) => n.metadata?.name).join(', ') || 'settled' };
          },
        },
        { within: 120_000 },
      );
      baseline = state.lines();
      target = { kubeconfig: kindKubeconfigPath(name), context: `kind-${name}`, reports: join(tmp, 'reports-interrupt'), outside: { what: "kind's node containers", lines: () => kindNodeLines(name), before: await kindNodeLines(name) } };
      features = writeFeatures(tmp, KIND_FAMILIES);
    });

    kindPlans.forEach((plan, i) => {
      const when = plan.aim === 'after-fault' ? `${(plan.fraction * 3).toFixed(1)} s after its fault landed` : `${Math.round(plan.fraction * 100)}% into the run`;
      it(`#${i} ${plan.family.name}: ${plan.signal} ${when}${plan.signal === 'SIGKILL' ? ', then clean' : ''}: cluster and node containers left as found`, async () => {
        const a = await interruptOnce(state!, baseline, features.get(plan.family.name)!, plan, spans.delay(plan), target, 120_000);
        attempts.push(a);
        spans.learn(a);
        process.stderr.write(`  ${describeAttempt(a, i)}\n`);
        assert.deepEqual(a.leftovers, [], `seed ${seed}, kind iteration ${i}: left behind\n${a.run.out.slice(-3000)}\n${a.clean?.out ?? ''}`);
        if (a.interrupted && plan.signal === 'SIGINT') assert.ok(a.run.code === 130 || a.run.signal === 'SIGINT', `exit ${a.run.code} ${a.run.signal}\n${a.run.out.slice(-3000)}`);
        if (a.clean) assert.equal(a.clean.code, 0, a.clean.out);
        if (!a.interrupted) assert.equal(a.run.code, 0, a.run.out.slice(-3000));
      });
    });

    it('the kills aimed after a fault caught it in place, in every kind family run', { skip: kindPlans.length === 0 }, () => {
      const aimed = attempts.filter((a) => a.aim === 'after-fault');
      assert.deepEqual(aimed.filter((a) => !a.landedAtKill).map((a) => `${a.family} ${a.signal} ${a.delayMs} ms after: ${a.interrupted ? 'nothing in place' : 'the run had ended'}`), []);
    });
  });

  it('cluster down leaves no container, no kind network or /lib/modules kubeproof made, and no mount of the cluster', async () => {
    await nodes.stop();
    await state?.stop();
    const down = await kubeproof(['cluster', 'down', '--cluster', 'kind', '--name', name]).done;
    assert.equal(down.code, 0, down.out);
    assert.deepEqual(containers(), []);
    const others = spawnSync('docker', ['ps', '-a', '--filter', 'label=io.x-k8s.kind.cluster', '--format', '{{.Names}}'], { encoding: 'utf8' }).stdout.trim();
    if (!networkBefore && !others) assert.notEqual(docker('network', 'inspect', 'kind').status, 0, "kind's network, made by this cluster's create, stayed behind");
    if (!libModulesBefore && !others) assert.equal(existsSync('/lib/modules'), false, 'the empty /lib/modules kind made stayed behind');
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(name), `a mount of ${name} stayed behind`);
  });
});
