/**
 * After the readiness and load faults are undone — at the end of a scenario, or by the
 * ledger alone as after Ctrl-C — every pod's readiness label and CPU usage annotation are
 * back to idle. Runs against a real local cluster (real controllers, KWOK pods).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { LocalProvider, LocalCluster } from '../../src/cluster/providers/local.js';
import { Kube } from '../../src/kube/client.js';
import { Scenario } from '../../src/scenario/scenario.js';
import { projectRoot } from '../../src/project.js';
import { deployWorkload } from '../../src/workload/deploy.js';
import { breakReadiness, READINESS_BREAKS, UNREADY_LABEL } from '../../src/faults/readiness.js';
import { applyLoad, LOADS, USAGE_CPU_ANNOTATION, LOAD_WRITTEN_ANNOTATION, type LoadDriver } from '../../src/faults/load.js';
import { revertRun } from '../../src/ledger/ledger.js';
import { until } from '../../src/wait/until.js';
import { podReady } from '../../src/timeline/timeline.js';
import type { Pod } from '../../src/kube/types.js';

const name = `it-apps-${randomBytes(2).toString('hex')}`;
const log = (l: string) => process.stderr.write(`  [cluster] ${l}\n`);
let cluster: LocalCluster;
let kube: Kube;

const WEB = { kind: 'Deployment' as const, name: 'web' };
const SHOP = { kind: 'Deployment' as const, name: 'shop' };
/** The template of scenarios/hpa sets this; scenarios/web sets none. */
const IDLE: Record<string, string | undefined> = { shop: '20m', web: undefined };

function newScenario(): Scenario {
  const runId = `it${randomBytes(4).toString('hex')}`;
  const info = { kind: cluster.kind, name: cluster.name, context: cluster.context, serverVersion: cluster.serverVersion, timings: cluster.timings, capabilities: cluster.capabilities, nodes: cluster.nodes };
  return new Scenario(kube, info, cluster.parts, runId, Scenario.namespaceFor(runId), projectRoot);
}

/** What is not idle on a pod, in words (empty: idle). */
function residue(p: Pod): string[] {
  const app = p.metadata?.labels?.app ?? '';
  const ann = p.metadata?.annotations ?? {};
  const out: string[] = [];
  if (p.metadata?.labels?.[UNREADY_LABEL] !== undefined) out.push(`label ${UNREADY_LABEL}=${p.metadata.labels[UNREADY_LABEL]}`);
  if (ann[USAGE_CPU_ANNOTATION] !== IDLE[app]) out.push(`${USAGE_CPU_ANNOTATION}=${ann[USAGE_CPU_ANNOTATION] ?? '(none)'}, idle is ${IDLE[app] ?? '(none)'}`);
  for (const k of Object.keys(ann)) if (k === LOAD_WRITTEN_ANNOTATION || k.startsWith('fault.kubeproof.io/')) out.push(`annotation ${k}`);
  return out.map((r) => `${p.metadata?.name}: ${r}`);
}

/** Inject both faults and wait until the cluster shows them. */
async function injectBoth(s: Scenario): Promise<void> {
  await deployWorkload(s, WEB, 'scenarios/web', 60_000);
  await deployWorkload(s, SHOP, 'scenarios/hpa', 60_000);
  await breakReadiness(s, { workload: WEB, howMany: { count: 1 } });
  await applyLoad(s, SHOP, 0.4);
  const tl = s.timeline;
  const victim = s.state(READINESS_BREAKS)[0]!.victims[0]!.name;
  await until(
    {
      description: `${victim} NotReady and every Ready shop pod loaded`,
      sources: [tl.pods],
      evaluate: () => {
        const shop = tl.pods.list().filter((p) => p.metadata?.labels?.app === 'shop' && podReady(p));
        const loaded = shop.filter((p) => p.metadata?.annotations?.[USAGE_CPU_ANNOTATION] === `${400 / shop.length}m`);
        return { ok: !podReady(tl.pods.get(victim, s.namespace)) && shop.length > 0 && loaded.length === shop.length, observed: `${victim} Ready=${podReady(tl.pods.get(victim, s.namespace))}; ${loaded.length}/${shop.length} shop pods loaded` };
      },
    },
    { within: 30_000 },
  );
}

/** Every pod idle and Ready again (watched, with a deadline). */
async function allIdleAndReady(s: Scenario): Promise<void> {
  const tl = s.timeline;
  await until(
    {
      description: 'every pod idle and Ready',
      sources: [tl.pods],
      evaluate: () => {
        const pods = tl.pods.list().filter((p) => p.metadata?.namespace === s.namespace && !p.metadata?.deletionTimestamp);
        const left = [...pods.flatMap(residue), ...pods.filter((p) => !podReady(p)).map((p) => `${p.metadata?.name} not Ready`)];
        return { ok: pods.length > 0 && left.length === 0, observed: left.join('; ') || `${pods.length} pods` };
      },
    },
    { within: 30_000 },
  );
  // The watch cache agrees with the API server (a final read, not a wait).
  const listed = await kube.list<Pod>('Pod', { namespace: s.namespace });
  assert.deepEqual(listed.items.filter((p) => !p.metadata?.deletionTimestamp).flatMap(residue), []);
}

describe('readiness and load faults leave every pod idle', { timeout: 300_000 }, () => {
  before(async () => {
    cluster = await new LocalProvider().up({ name, nodes: 3, log });
    kube = Kube.fromKubeconfig(cluster.kubeconfigPath);
  });

  after(async () => {
    await cluster?.down();
  });

  it('when the scenario ends (its cleanup undoes both faults)', async () => {
    const s = newScenario();
    await s.begin();
    let checked: Promise<void> | undefined;
    // Registered first, so it runs last: after both faults' reverts, before the namespace goes.
    s.onCleanup('check idle', async () => {
      checked = allIdleAndReady(s);
      await checked;
    });
    try {
      await injectBoth(s);
    } finally {
      const failures = await s.end();
      assert.deepEqual(failures, []);
    }
    assert.ok(checked, 'the idle check did not run');
    assert.ok(s.faults.length >= 2 && s.faults.every((f) => f.revert === 'reverted'), JSON.stringify(s.faults));
  });

  it('when only the ledger undoes them (as after Ctrl-C), and the load driver stops writing', async () => {
    const s = newScenario();
    await s.begin();
    try {
      await injectBoth(s);
      const reports = await revertRun(kube, s.runId);
      assert.deepEqual(reports.map((r) => r.outcome.status).sort(), ['reverted', 'reverted']);
      await allIdleAndReady(s);
      const driver = s.state(LOADS).get('deployment shop') as LoadDriver;
      await until({ description: 'the load driver noticed its undo', sources: [s.timeline.pods], evaluate: () => ({ ok: driver.revertedElsewhere, observed: String(driver.revertedElsewhere) }) }, { within: 10_000 });
      // A pod change after the undo must not bring the load back: scale shop up and check again.
      await kube.mergePatch('Deployment', 'shop', s.namespace, { spec: { replicas: 3 } });
      await until({ description: '3 shop pods Ready', sources: [s.timeline.pods], evaluate: () => { const n = s.timeline.pods.list().filter((p) => p.metadata?.labels?.app === 'shop' && podReady(p) && !p.metadata?.deletionTimestamp).length; return { ok: n === 3, observed: `${n}` }; } }, { within: 30_000 });
      await allIdleAndReady(s);
    } finally {
      const failures = await s.end();
      assert.deepEqual(failures, []);
    }
  });
});
