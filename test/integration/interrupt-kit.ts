/**
 * Interrupting the runner at random moments, shared by test/integration/interrupt.test.ts
 * (CI: at least 20 iterations) and bench/interrupt.mjs (200, recorded in bench/README.md).
 *
 * One fault family per feature, each injecting its fault within a few seconds and holding it:
 * a seeded PRNG picks the family's signal and the delay after spawn (0..the family's span),
 * the runner gets SIGINT (it must undo by itself) or SIGKILL (then `kubeproof clean`), and the
 * cluster is compared with its state before the run. The state is read here, from watches of
 * our own, never from the runner's records: nodes (schedulability, taints, labels,
 * annotations, Ready), pods (readiness switch, usage annotations, kubeproof marks), namespaces
 * of runs, ledgers and Leases in kubeproof-system.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kube } from '../../src/kube/client.js';
import { Informer } from '../../src/kube/informer.js';
import { until, ConditionTimeout, type Condition } from '../../src/expect/until.js';
import { seededRandom } from '../../src/faults/random.js';
import type { KubeObject, Node, Pod } from '../../src/kube/types.js';
import { kubeproof, type Done } from './harness.js';

export interface Family {
  name: string;
  /** The latest kill point, ms after spawn: past the fault and into its undo. */
  spanMs: number;
  feature: string;
}

const WEB = `    Given deployment "web" from "scenarios/web" is ready\n`;
const HOLD = `    Then for 8 s at least 1 pod of deployment "web" stay Ready\n`;

/** Every fault family that runs on the local cluster's KWOK nodes (no real node). */
export const FAMILIES: Family[] = [
  {
    name: 'pod-kill',
    spanMs: 14_000,
    feature: `Feature: pod kill, interrupted\n  Scenario: kills\n${WEB}    When 2 pods of deployment "web" are killed\n    Then within 30 s 3 pods of deployment "web" are Ready\n    When 1 pod of deployment "web" is killed 3 times, each time waiting up to 30 s for 3 ready replicas\n${HOLD}`,
  },
  {
    name: 'drain-under-pdb',
    spanMs: 16_000,
    feature: `Feature: drain under a budget, interrupted\n  Scenario: a drain the budget blocks\n    Given deployment "ledger" from "scenarios/drain/ledger.yaml" is ready\n    When node "node-1" is drained, giving up after 8 s\n    Then the drain of node "node-1" gave up, blocked by PodDisruptionBudget "ledger"\n  Scenario: a drain that completes\n    Given deployment "api" from "scenarios/drain/api.yaml" is ready\n    When node "node-2" is drained\n    Then the drain of node "node-2" completed within 60 s\n`,
  },
  {
    name: 'noexecute-taint',
    spanMs: 14_000,
    feature: `Feature: taints, interrupted\n  Scenario: a NoExecute and a NoSchedule taint\n${WEB}    When node "node-1" is tainted "kp-interrupt=held:NoExecute"\n    And the nodes in zone "b" are tainted "kp-interrupt=zone:NoSchedule"\n${HOLD}`,
  },
  {
    name: 'node-failure',
    spanMs: 16_000,
    feature: `Feature: node failure, interrupted\n  Scenario: silent and NotReady nodes\n${WEB}    When node "node-2" stops sending heartbeats\n    And node "node-3" reports NotReady\n    Then within 30 s node "node-3" is NotReady\n${HOLD}`,
  },
  {
    name: 'readiness-break',
    spanMs: 14_000,
    feature: `Feature: readiness, interrupted\n  Scenario: two pods fail readiness\n${WEB}    When 2 pods of deployment "web" fail readiness\n    Then within 10 s PodDisruptionBudget "web" counts 1 healthy pod\n    Then for 8 s at least 1 pod of deployment "web" stay Running\n`,
  },
  {
    name: 'load',
    spanMs: 14_000,
    feature: `Feature: load, interrupted\n  Scenario: CPU offered to a deployment\n${WEB}    When a load of 0.6 CPU cores is offered to deployment "web"\n${HOLD}`,
  },
  {
    name: 'node-label-patch',
    spanMs: 14_000,
    feature: `Feature: node label and patch, interrupted\n  Scenario: shared nodes changed\n${WEB}    When node "node-1" is labelled "kp-interrupt/held=yes"\n    And node "node-2" is patched with:\n      """\n      metadata:\n        labels:\n          kp-interrupt/tier: held\n        annotations:\n          example.com/owner: interrupt-test\n      spec:\n        unschedulable: true\n      """\n${HOLD}`,
  },
];

/** Write each family's feature into `dir`; returns the paths by family name. */
export function writeFeatures(dir: string): Map<string, string> {
  return new Map(
    FAMILIES.map((f) => {
      const path = join(dir, `interrupt-${f.name}.feature`);
      writeFileSync(path, f.feature);
      return [f.name, path];
    }),
  );
}

export interface Plan {
  family: Family;
  signal: 'SIGINT' | 'SIGKILL';
  delayMs: number;
}

/** The seeded schedule: families round-robin (every family in every 7), signal and delay drawn. */
export function schedule(seed: number, iterations: number): Plan[] {
  const rnd = seededRandom(seed);
  const out: Plan[] = [];
  for (let i = 0; i < iterations; i++) {
    const family = FAMILIES[i % FAMILIES.length]!;
    const signal = rnd() < 0.5 ? 'SIGINT' : 'SIGKILL';
    out.push({ family, signal, delayMs: Math.round(rnd() * family.spanMs) });
  }
  return out;
}

/** Node annotations that controllers rewrite on their own. */
const VOLATILE = new Set(['node.alpha.kubernetes.io/ttl']);
/** Pod marks a fault could leave: the readiness switch, kwok's usage, kubeproof's own. */
const POD_MARK = /kubeproof|kwok\.x-k8s\.io\/usage/;

/**
 * The cluster as the tests read it, from watches opened here (not from the runner): each
 * thing a run may change, one line each, so a difference names what was left.
 */
export class ClusterState {
  readonly nodes: Informer<Node>;
  readonly pods: Informer<Pod>;
  readonly namespaces: Informer<KubeObject>;
  readonly ledgers: Informer<KubeObject>;
  readonly leases: Informer<KubeObject>;

  constructor(readonly kube: Kube) {
    this.nodes = new Informer<Node>(kube, 'Node');
    this.pods = new Informer<Pod>(kube, 'Pod');
    this.namespaces = new Informer<KubeObject>(kube, 'Namespace');
    this.ledgers = new Informer<KubeObject>(kube, 'ConfigMap', { namespace: 'kubeproof-system', labelSelector: 'kubeproof.io/ledger' });
    this.leases = new Informer<KubeObject>(kube, 'Lease', { namespace: 'kubeproof-system' });
  }

  private get sources() {
    return [this.nodes, this.pods, this.namespaces, this.ledgers, this.leases];
  }

  async start(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.stop()));
  }

  lines(): string[] {
    const out: string[] = [];
    for (const n of this.nodes.list()) {
      const name = n.metadata!.name!;
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '?';
      out.push(`node ${name} Ready=${ready}${n.spec?.unschedulable ? ' cordoned' : ''}`);
      for (const t of n.spec?.taints ?? []) out.push(`node ${name} taint ${t.key}=${t.value ?? ''}:${t.effect}`);
      for (const [k, v] of Object.entries(n.metadata?.labels ?? {})) out.push(`node ${name} label ${k}=${v}`);
      for (const [k, v] of Object.entries(n.metadata?.annotations ?? {})) if (!VOLATILE.has(k)) out.push(`node ${name} annotation ${k}=${v}`);
    }
    for (const ns of this.namespaces.list()) {
      const run = ns.metadata?.labels?.['kubeproof.io/run'];
      if (run) out.push(`namespace ${ns.metadata!.name} of run ${run}${ns.metadata?.deletionTimestamp ? ' (terminating)' : ''}`);
    }
    for (const p of this.pods.list()) {
      const where = `pod ${p.metadata!.namespace}/${p.metadata!.name}`;
      for (const [k, v] of Object.entries(p.metadata?.labels ?? {})) if (POD_MARK.test(k) && k !== 'kubeproof.io/run') out.push(`${where} label ${k}=${v}`);
      for (const [k, v] of Object.entries(p.metadata?.annotations ?? {})) if (POD_MARK.test(k)) out.push(`${where} annotation ${k}=${v}`);
    }
    for (const cm of this.ledgers.list()) out.push(`ledger ${cm.metadata!.name} (${Object.keys((cm as { data?: object }).data ?? {}).length} record(s))`);
    for (const l of this.leases.list()) out.push(`lease ${l.metadata!.name}`);
    return out.sort();
  }

  /** Lines in one state and not the other: "+ x" left behind, "- x" gone missing. */
  static diff(before: string[], after: string[]): string[] {
    const b = new Set(before);
    const a = new Set(after);
    return [...after.filter((l) => !b.has(l)).map((l) => `+ ${l}`), ...before.filter((l) => !a.has(l)).map((l) => `- ${l}`)];
  }

  /**
   * Wait (on watch events, with a deadline) until the cluster is as `baseline` says; resolves
   * with what still differs at the deadline (empty: left as found).
   */
  async settle(baseline: string[], within: number): Promise<string[]> {
    const condition: Condition = {
      description: 'the cluster as it was before the run',
      sources: this.sources,
      evaluate: () => {
        const d = ClusterState.diff(baseline, this.lines());
        return { ok: d.length === 0, observed: d.join('; ') || 'as before' };
      },
    };
    try {
      await until(condition, { within });
      return [];
    } catch (err) {
      if (err instanceof ConditionTimeout) return ClusterState.diff(baseline, this.lines());
      throw err;
    }
  }
}

export interface Attempt {
  family: string;
  signal: 'SIGINT' | 'SIGKILL';
  delayMs: number;
  /** Whether the run was still running when the signal came (false: it had already ended). */
  interrupted: boolean;
  /** What the run had changed at the kill point (differences from the baseline then). */
  atKill: string[];
  run: Done;
  clean?: Done;
  /** What differed from the baseline once things settled (the goal: nothing). */
  leftovers: string[];
  ms: number;
}

export interface Target {
  kubeconfig: string;
  context: string;
  reports: string;
}

/**
 * One interrupted run: spawn, wait the drawn delay (the experiment, not a wait for a
 * condition), signal, then (after SIGKILL) `kubeproof clean`, and compare with `baseline`.
 */
export async function interruptOnce(state: ClusterState, baseline: string[], feature: string, plan: Plan, target: Target, settleWithin = 60_000): Promise<Attempt> {
  const started = Date.now();
  const run = kubeproof(['run', feature, '--cluster', 'existing', '--kubeconfig', target.kubeconfig, '--allow-context', target.context, '--reports', target.reports]);
  let ended = false;
  void run.done.then(() => (ended = true));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, plan.delayMs);
    void run.done.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  const interrupted = !ended;
  const atKill = ClusterState.diff(baseline, state.lines());
  if (interrupted) run.child.kill(plan.signal);
  const done = await run.done;
  let clean: Done | undefined;
  if (plan.signal === 'SIGKILL') clean = await kubeproof(['clean', '--kubeconfig', target.kubeconfig, '--context', target.context]).done;
  const leftovers = await state.settle(baseline, settleWithin);
  return { family: plan.family.name, signal: plan.signal, delayMs: plan.delayMs, interrupted, atKill, run: done, ...(clean ? { clean } : {}), leftovers, ms: Date.now() - started };
}

/** A seed from the environment (to replay) or a fresh one. */
export function seedFromEnv(): number {
  const given = process.env.KUBEPROOF_INTERRUPT_SEED;
  return given ? Number(given) : Math.floor(Math.random() * 2 ** 31);
}

/** An attempt in one line, for logs and the bench's table. */
export function describeAttempt(a: Attempt, i?: number): string {
  const exit = a.run.signal ?? `exit ${a.run.code}`;
  const clean = a.clean ? `, clean exit ${a.clean.code}` : '';
  const at = a.atKill.filter((l) => l.startsWith('+')).length;
  return `${i !== undefined ? `#${i} ` : ''}${a.family} ${a.signal} at ${(a.delayMs / 1000).toFixed(1)} s${a.interrupted ? '' : ' (run had ended)'}: ${exit}${clean}, ${at} change(s) in place at the kill, ${a.leftovers.length ? `LEFT ${a.leftovers.join('; ')}` : 'left as found'} (${(a.ms / 1000).toFixed(1)} s)`;
}
