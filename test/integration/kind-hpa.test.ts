/**
 * The HPA on a real kind cluster reads real CPU: metrics-server (built from source, installed
 * by `cluster up --cluster kind`) serves metrics.k8s.io for every node; the controller-manager
 * process runs with kubeproof's fast HPA timings (its own command line, read in the node); real
 * load (HTTP /burn from the client pod) scales the test app up, and a load below the HPA's
 * target does not — the false claim that it does fails with the utilisation the HPA read.
 * Needs a Docker engine and kubeproof's kind node image (as test/integration/kind.test.ts);
 * KUBEPROOF_KIND_NAME uses a running kind cluster (made by kubeproof, with --real-nodes 1) instead.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Kube } from '../../src/kube/client.js';
import { kindKubeconfigPath } from '../../src/cluster/providers/kind.js';
import { FAST_TIMINGS } from '../../src/cluster/providers/provider.js';
import type { Pod } from '../../src/kube/types.js';
import { kubeproof } from './harness.js';

const engine = spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;
if (!engine && process.env.CI === 'true') throw new Error('no Docker engine answers (docker info failed); under CI=true the kind test is required');
const skip = engine ? false : 'no Docker engine answers (docker info failed): start one, e.g. scripts/docker-engine.sh start';

const tmp = mkdtempSync(join(tmpdir(), 'kubeproof-kind-hpa-'));
const given = process.env.KUBEPROOF_KIND_NAME;
const name = given ?? `khp-${randomBytes(2).toString('hex')}`;
const target = () => ['--cluster', 'existing', '--kubeconfig', kindKubeconfigPath(name), '--context', `kind-${name}`];
let kube: Kube;

interface Summary {
  scenarios: Array<{ name: string; status: string; error?: string }>;
}

function summaryOf(dir: string): Summary {
  const file = readdirSync(dir, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('summary.json'));
  assert.ok(file, `no summary.json under ${dir}`);
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as Summary;
}

const FEATURE = `Feature: The HPA on kind reads real CPU
  Scenario: fact: real load scales the Deployment up
    Given a real node
    And deployment "burn" from "scenarios/real/hpa.yaml" is ready
    And within 90 s HPA "burn" reads its CPU metric
    When a load of 0.3 CPU cores is offered to deployment "burn"
    Then within 90 s HPA "burn" scales from 2 to at least 4 replicas

  Scenario: myth: a load below the HPA's target scales the Deployment up
    Given a real node
    And deployment "burn" from "scenarios/real/hpa.yaml" is ready
    And within 90 s HPA "burn" reads its CPU metric
    When a load of 0.04 CPU cores is offered to deployment "burn"
    Then within 45 s HPA "burn" scales from 2 to at least 3 replicas
`;

describe('kind: the HPA reads real CPU from metrics-server', { skip, timeout: 1_200_000 }, () => {
  before(async () => {
    if (!given) {
      const up = await kubeproof(['cluster', 'up', '--cluster', 'kind', '--name', name, '--nodes', '3', '--real-nodes', '1', '--kind-image', process.env.KUBEPROOF_KIND_IMAGE ?? 'offline']).done;
      assert.equal(up.code, 0, up.out);
      assert.match(up.out, /metrics-server kubeproof\.local\/metrics-server:v0\.9\.0 serving metrics\.k8s\.io in /);
    }
    kube = Kube.fromKubeconfig(kindKubeconfigPath(name), `kind-${name}`);
  });

  after(async () => {
    if (!given) await kubeproof(['cluster', 'down', '--cluster', 'kind', '--name', name]).done;
    rmSync(tmp, { recursive: true, force: true });
  });

  it('metrics.k8s.io answers with the CPU of every node, read from its kubelet', async () => {
    const nodes = (await kube.list('Node')).items.map((n) => n.metadata!.name!).sort();
    const m = await kube.request<{ items: Array<{ metadata: { name: string }; usage: { cpu: string; memory: string } }> }>('GET', '/apis/metrics.k8s.io/v1beta1/nodes');
    assert.deepEqual(m.items.map((i) => i.metadata.name).sort(), nodes);
    // The control plane runs etcd and the API server: never idle.
    const cp = m.items.find((i) => i.metadata.name.endsWith('-control-plane'))!;
    assert.ok(/^\d+n$/.test(cp.usage.cpu) && parseInt(cp.usage.cpu, 10) > 1_000_000, `control-plane CPU ${cp.usage.cpu}`);
    const ms = (await kube.list<Pod>('Pod', { namespace: 'kube-system', labelSelector: 'k8s-app=metrics-server' })).items;
    assert.equal(ms.length, 1);
    assert.match(ms[0]!.spec!.nodeName!, /-control-plane$/);
  });

  it('the controller-manager process runs with the fast HPA sync period and downscale window', () => {
    const r = spawnSync('docker', ['exec', `${name}-control-plane`, 'sh', '-c', 'for p in /proc/[0-9]*; do if [ "$(cat $p/comm 2>/dev/null)" = kube-controller ]; then tr "\\0" "\\n" < $p/cmdline; fi; done'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const args = r.stdout.split('\n');
    assert.ok(args.some((a) => a.endsWith('kube-controller-manager')), `no kube-controller-manager process: ${r.stdout}`);
    assert.ok(args.includes(`--horizontal-pod-autoscaler-sync-period=${FAST_TIMINGS.hpaSyncPeriodSeconds}s`), args.join(' '));
    assert.ok(args.includes(`--horizontal-pod-autoscaler-downscale-stabilization=${FAST_TIMINGS.hpaDownscaleStabilizationSeconds}s`), args.join(' '));
  });

  it('real load scales the Deployment up; the claim that a load below the target does fails with what the HPA read', async () => {
    const f = join(tmp, 'hpa.feature');
    writeFileSync(f, FEATURE);
    const reports = join(tmp, 'reports');
    const r = await kubeproof(['run', f, ...target(), '--reports', reports]).done;
    assert.equal(r.code, 1, r.out);
    const byName = new Map(summaryOf(reports).scenarios.map((s) => [s.name, s]));
    const fact = byName.get('fact: real load scales the Deployment up');
    assert.equal(fact?.status, 'passed', fact?.error);
    const myth = byName.get("myth: a load below the HPA's target scales the Deployment up");
    assert.equal(myth?.status, 'failed', myth?.error);
    // It waited the whole 45 s and saw the HPA hold at 2 with a real, low utilisation.
    assert.match(myth!.error ?? '', /45(\.0)? s.*deployment burn at 2 replicas; HPA burn: current 2, desired 2, cpu \d+%/s);
  });
});
