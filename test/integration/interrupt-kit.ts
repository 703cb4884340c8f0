/**
 * Interrupting the runner at random moments, shared by test/integration/interrupt.test.ts
 * (CI: at least 20 iterations) and bench/interrupt.mjs (200, recorded in bench/README.md).
 *
 * One fault family per feature, each injecting its fault within a few seconds and holding it:
 * a seeded PRNG picks the signal and the moment after spawn (a fraction of the family's span),
 * the runner gets SIGINT (it must undo by itself) or SIGKILL (then `kubeproof clean`), and the
 * cluster is compared with its state before the run. The state is read here, from watches of
 * our own, never from the runner's records: nodes (schedulability, taints, labels,
 * annotations, Ready), pods (readiness switch, usage annotations, kubeproof marks), namespaces
 * of runs, ledgers and Leases in kubeproof-system — and, outside the cluster, what the fault
 * acts on: the host after a real-node run (its processes, mounts, links, iptables chains,
 * cgroups: host-snapshot.ts), the node containers after a kind run (state, kubelet, stopped
 * processes). Families run on KWOK nodes (FAMILIES), on the local cluster's real node
 * (REAL_FAMILIES, by --name: its faults need the node's processes) and on kind (KIND_FAMILIES).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { Kube } from '../../src/kube/client.js';
import { Informer } from '../../src/kube/informer.js';
import { until, ConditionTimeout, type Condition } from '../../src/wait/until.js';
import { seededRandom } from '../../src/faults/random.js';
import type { KubeObject, Node, Pod } from '../../src/kube/types.js';
import { kubeproof, type Done } from './harness.js';
import { hostSnapshot } from './host-snapshot.js';

export interface Family {
  name: string;
  /** Where it runs: KWOK nodes of a local cluster (default), the local cluster's real node, a kind cluster. */
  on?: 'kwok' | 'real' | 'kind';
  /** The first change of the run that shows its fault landed: a line of ClusterState.diff, or a test over the watched state. */
  landed?: RegExp | ((state: ClusterState) => boolean);
  /** The latest kill point, ms after spawn: about the run's length undisturbed (measured on a loaded 2-core machine), so kills land anywhere from the start to the end. */
  spanMs: number;
  feature: string;
}

const WEB = `    Given deployment "web" from "scenarios/web" is ready\n`;
const HOLD = `    Then for 5 s at least 1 pod of deployment "web" stay Ready\n`;

/** Every fault family that runs on the local cluster's KWOK nodes (no real node). */
export const FAMILIES: Family[] = [
  {
    name: 'pod-kill',
    // A killed pod leaves no mark (its replacement is the controller's): the run's namespace is the anchor.
    landed: /^\+ namespace /,
    spanMs: 9_000,
    feature: `Feature: pod kill, interrupted\n  Scenario: kills\n${WEB}    When 2 pods of deployment "web" are killed\n    Then within 30 s 3 pods of deployment "web" are Ready\n    When 1 pod of deployment "web" is killed 3 times, each time waiting up to 30 s for 3 ready replicas\n${HOLD}`,
  },
  {
    name: 'drain-under-pdb',
    spanMs: 16_000,
    feature: `Feature: drain under a budget, interrupted\n  Scenario: a drain the budget blocks\n    Given deployment "ledger" from "scenarios/drain/ledger.yaml" is ready\n    When node "node-1" is drained, giving up after 8 s\n    Then the drain of node "node-1" gave up, blocked by PodDisruptionBudget "ledger"\n  Scenario: a drain that completes\n    Given deployment "api" from "scenarios/drain/api.yaml" is ready\n    When node "node-2" is drained\n    Then the drain of node "node-2" completed within 60 s\n`,
  },
  {
    name: 'noexecute-taint',
    spanMs: 9_000,
    feature: `Feature: taints, interrupted\n  Scenario: a NoExecute and a NoSchedule taint\n${WEB}    When node "node-1" is tainted "kp-interrupt=held:NoExecute"\n    And the nodes in zone "b" are tainted "kp-interrupt=zone:NoSchedule"\n${HOLD}`,
  },
  {
    name: 'node-failure',
    spanMs: 12_000,
    feature: `Feature: node failure, interrupted\n  Scenario: silent and NotReady nodes\n${WEB}    When node "node-2" stops sending heartbeats\n    And node "node-3" reports NotReady\n    Then within 30 s node "node-3" is NotReady\n${HOLD}`,
  },
  {
    name: 'readiness-break',
    spanMs: 14_000,
    feature: `Feature: readiness, interrupted\n  Scenario: two pods fail readiness\n${WEB}    When 2 pods of deployment "web" fail readiness\n    Then within 10 s PodDisruptionBudget "web" counts 1 healthy pod\n    Then for 5 s at least 1 pod of deployment "web" stay Running\n`,
  },
  {
    name: 'load',
    spanMs: 11_000,
    feature: `Feature: load, interrupted\n  Scenario: CPU offered to a deployment\n${WEB}    When a load of 0.6 CPU cores is offered to deployment "web"\n${HOLD}`,
  },
  {
    name: 'node-label-patch',
    spanMs: 10_000,
    feature: `Feature: node label and patch, interrupted\n  Scenario: shared nodes changed\n${WEB}    When node "node-1" is labelled "kp-interrupt/held=yes"\n    And node "node-2" is patched with:\n      """\n      metadata:\n        labels:\n          kp-interrupt/tier: held\n        annotations:\n          example.com/owner: interrupt-test\n      spec:\n        unschedulable: true\n      """\n${HOLD}`,
  },
];

const REAL_APP = `    Given a real node\n    And deployment "app" from "scenarios/real/app.yaml" is ready\n`;

/** A container of a run's pods that died and came back (a container kill leaves no mark on the objects: its restart is the sign). */
function containerRestarted(state: ClusterState): boolean {
  const runs = new Set(state.namespaces.list().filter((n) => n.metadata?.labels?.['kubeproof.io/run']).map((n) => n.metadata!.name!));
  return state.pods.list().some((p) => runs.has(p.metadata!.namespace!) && (p.status?.containerStatuses ?? []).some((c) => (c.restartCount ?? 0) > 0 || Boolean(c.state?.terminated)));
}

/** Families on the local cluster's real node (`--real-nodes 1`), run with `--name`: its kubelet and containerd are this machine's processes. */
export const REAL_FAMILIES: Family[] = [
  {
    name: 'real-kubelet-stop',
    on: 'real',
    spanMs: 20_000,
    feature: `Feature: real kubelet stopped, interrupted\n  Scenario: the kubelet of the real node stopped\n    Given a real node\n    When the kubelet of node "real-1" is stopped\n    Then within 60 s node "real-1" is Unknown\n`,
  },
  {
    name: 'real-container-kill',
    on: 'real',
    landed: containerRestarted,
    spanMs: 45_000,
    feature: `Feature: real container killed, interrupted\n  Scenario: a container killed twice\n${REAL_APP}    When the container of 1 pod of deployment "app" is killed\n    Then within 20 s the killed container is restarted in place by the kubelet\n    When the killed container is killed again as soon as it runs\n    Then the kubelet held the killed container in CrashLoopBackOff for at least 3 s\n`,
  },
  {
    name: 'real-readiness-break',
    on: 'real',
    spanMs: 25_000,
    feature: `Feature: real readiness broken, interrupted\n  Scenario: a real readiness probe fails\n${REAL_APP}    When 1 pod of deployment "app" fails readiness\n    Then for 5 s at least 2 pods of deployment "app" stay Ready\n`,
  },
];

/** Families on a kind cluster's nodes (containers of a Docker engine): docker stop, the freeze (docker pause or SIGSTOP), systemctl stop kubelet. */
export const KIND_FAMILIES: Family[] = [
  {
    name: 'kind-docker-stop',
    on: 'kind',
    spanMs: 30_000,
    feature: `Feature: kind node stopped, interrupted\n  Scenario: docker stop\n${WEB}    When node "node-2" stops sending heartbeats\n${HOLD}`,
  },
  {
    name: 'kind-freeze',
    on: 'kind',
    spanMs: 25_000,
    feature: `Feature: kind node frozen, interrupted\n  Scenario: docker pause\n${WEB}    When node "node-3" freezes\n${HOLD}`,
  },
  {
    name: 'kind-kubelet-stop',
    on: 'kind',
    spanMs: 25_000,
    feature: `Feature: kind kubelet stopped, interrupted\n  Scenario: systemctl stop kubelet\n${WEB}    When the kubelet of node "node-1" is stopped\n${HOLD}`,
  },
];

export const ALL_FAMILIES: Family[] = [...FAMILIES, ...REAL_FAMILIES, ...KIND_FAMILIES];

/** Write each family's feature into `dir`; returns the paths by family name. */
export function writeFeatures(dir: string, families: Family[] = ALL_FAMILIES): Map<string, string> {
  return new Map(
    families.map((f) => {
      const path = join(dir, `interrupt-${f.name}.feature`);
      writeFileSync(path, f.feature);
      return [f.name, path];
    }),
  );
}

export interface Plan {
  family: Family;
  signal: 'SIGINT' | 'SIGKILL';
  /** Where in the run the signal comes: 0 at spawn, 1 at the family's span (see Spans). */
  fraction: number;
  /**
   * anywhere: at `fraction` of the span after spawn; after-fault: `fraction` × 3 s after the
   * fault is seen to land (the window where a record, a write and an undo race).
   */
  aim: 'anywhere' | 'after-fault';
}

/** The moment a fault has landed, as the watches see it. */
const LANDED = /^\+ (node|pod) /;
const AFTER_FAULT_MS = 3_000;

/** The seeded schedule: `families` round-robin (each in every round), rounds aimed after the fault or anywhere in turn, signal and moment drawn. */
export function schedule(seed: number, iterations: number, families: Family[] = FAMILIES): Plan[] {
  const rnd = seededRandom(seed);
  const out: Plan[] = [];
  for (let i = 0; i < iterations; i++) {
    const family = families[i % families.length]!;
    const signal = rnd() < 0.5 ? 'SIGINT' : 'SIGKILL';
    // Rounds of every family alternate: the first (and every other) aims just after the fault lands.
    const aim = Math.floor(i / families.length) % 2 === 0 ? 'after-fault' : 'anywhere';
    out.push({ family, signal, fraction: rnd(), aim });
  }
  return out;
}

/**
 * Each family's span, shrunk to the length of a run that ended before its signal: a machine
 * less loaded than the one the spans were measured on runs them faster, and kills after the
 * end test nothing.
 */
export class Spans {
  private readonly ms = new Map(ALL_FAMILIES.map((f) => [f.name, f.spanMs]));

  delay(plan: Plan): number {
    return Math.round(plan.fraction * (plan.aim === 'after-fault' ? AFTER_FAULT_MS : this.ms.get(plan.family.name)!));
  }

  learn(a: Attempt): void {
    if (!a.interrupted && a.aim === 'anywhere') this.ms.set(a.family, Math.min(this.ms.get(a.family)!, a.runMs));
  }
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

  get sources() {
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
    // A namespace being deleted is on its way out with its pods (nothing kubeproof makes holds a finalizer): not left behind.
    const going = new Set(this.namespaces.list().filter((ns) => ns.metadata?.deletionTimestamp).map((ns) => ns.metadata!.name!));
    for (const ns of this.namespaces.list()) {
      const run = ns.metadata?.labels?.['kubeproof.io/run'];
      if (run && !going.has(ns.metadata!.name!)) out.push(`namespace ${ns.metadata!.name} of run ${run}`);
    }
    for (const p of this.pods.list()) {
      if (going.has(p.metadata!.namespace!)) continue;
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
  aim: Plan['aim'];
  /** After spawn, or (aim after-fault) after the fault was seen to land. */
  delayMs: number;
  /** When the signal came, after spawn. */
  killAtMs: number;
  /** How long the run lasted (to its exit, however it ended). */
  runMs: number;
  /** Whether the run was still running when the signal came (false: it had already ended). */
  interrupted: boolean;
  /** What the run had changed at the kill point (differences from the baseline then). */
  atKill: string[];
  /** Whether the family's fault was seen in place at the kill point (its `landed` test; by default a change to a node or pod). */
  landedAtKill: boolean;
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
  /** A local cluster's name: runs and cleans go by `--name` (what real-node faults need), not as an existing cluster. */
  name?: string;
  /** What outside the cluster must be as before after each run (the host, kind's node containers): compared once the cluster settled. */
  outside?: Outside;
}

export interface Outside {
  what: string;
  /** Its state, one line each (compared as ClusterState's lines are). */
  lines(): Promise<string[]>;
  /** The lines before the runs. */
  before: string[];
}

/** The host as host-snapshot.ts reads it, one line per thing a real node could leave. */
export async function hostLines(): Promise<string[]> {
  const snap = await hostSnapshot();
  // A process name counted, not listed: the kubelet a run restarts is another process of the same name.
  return Object.entries(snap).flatMap(([k, vs]) => (k === 'processes' ? Object.entries(vs.reduce<Record<string, number>>((m, v) => ({ ...m, [v]: (m[v] ?? 0) + 1 }), {})).map(([v, n]) => `host process ${v} ×${n}`) : vs.map((v) => `host ${k} ${v}`))).sort();
}

/** A kind cluster's node containers: state, how many kubelet processes run in each, how many of their processes are stopped (SIGSTOP). */
export async function kindNodeLines(cluster: string): Promise<string[]> {
  const ps = await execa('docker', ['ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${cluster}`, '--format', '{{.Names}} {{.State}}'], { reject: false });
  const out: string[] = [];
  for (const line of ps.stdout.split('\n').filter(Boolean)) {
    const [container, state] = line.split(' ');
    out.push(`container ${container} ${state}`);
    if (state !== 'running') continue;
    // Read from /proc, not systemctl (whose bus may not answer yet right after the node started): kubelet processes, and processes stopped by a signal.
    const script = 'k=0; for c in /proc/[0-9]*/comm; do [ "$(cat "$c" 2>/dev/null)" = kubelet ] && k=$((k+1)); done; echo "kubelet processes $k"; echo "stopped processes $(grep -l "^State:[[:space:]]*T" /proc/[0-9]*/status 2>/dev/null | wc -l)"';
    const inside = await execa('docker', ['exec', container!, 'sh', '-c', script], { reject: false });
    const lines = inside.exitCode === 0 ? inside.stdout.trim().split('\n') : [`not answering (exit ${inside.exitCode})`];
    out.push(...lines.map((l) => `container ${container} ${l.trim()}`));
  }
  return out.sort();
}

/**
 * The host as a real node leaves it between runs: the first pod on the node makes what every
 * later one shares (containerd's k8s.io cgroups, /run/containerd, /var/lib/cni, ip_forward on),
 * kept until `cluster down` removes it. So one run of the test app first (it must pass), its
 * namespace gone, then the baseline for the comparison after each real-node run.
 */
export async function realNodeBaseline(state: ClusterState, target: Target, dir: string): Promise<string[]> {
  const path = join(dir, 'warm-real-node.feature');
  writeFileSync(path, `Feature: the real node's first pods\n  Scenario: the test app\n${REAL_APP}`);
  const r = await kubeproof(['run', path, ...runArgs(target), '--reports', target.reports]).done;
  if (r.code !== 0) throw new Error(`the real node's first run failed (exit ${r.code}):\n${r.out.slice(-3000)}`);
  await runNamespacesGone(state, 60_000);
  return hostLines();
}

/** The arguments that point `run` (and `clean`) at the target. */
function runArgs(t: Target): string[] {
  // The context by name: a kind-<name> context is how an existing cluster is known to be kind (and its nodes reachable).
  return t.name ? ['--name', t.name] : ['--cluster', 'existing', '--kubeconfig', t.kubeconfig, '--context', t.context, '--allow-context', t.context];
}

export function cleanArgs(t: Target): string[] {
  return t.name ? ['--name', t.name] : ['--kubeconfig', t.kubeconfig, '--context', t.context, '--allow-context', t.context];
}

/** Wait (on namespace events) until no namespace of a run is left, terminating ones included: their pods' traces on a node go with them. */
async function runNamespacesGone(state: ClusterState, within: number): Promise<void> {
  await until(
    {
      description: 'no namespace of a run, terminating or not',
      sources: [state.namespaces, state.pods],
      evaluate: () => {
        const left = state.namespaces.list().filter((n) => n.metadata?.labels?.['kubeproof.io/run']);
        return { ok: left.length === 0, observed: left.map((n) => n.metadata!.name).join(', ') };
      },
    },
    { within },
  ).catch(() => undefined);
}

/**
 * One interrupted run: spawn, wait `delayMs` (the experiment, not a wait for a condition),
 * signal, then (after SIGKILL) `kubeproof clean`, and compare with `baseline`.
 */
export async function interruptOnce(state: ClusterState, baseline: string[], feature: string, plan: Plan, delayMs: number, target: Target, settleWithin = 60_000): Promise<Attempt> {
  const started = Date.now();
  const run = kubeproof(['run', feature, ...runArgs(target), '--reports', target.reports]);
  let ended = false;
  void run.done.then(() => (ended = true));
  if (plan.aim === 'after-fault') {
    const landed = plan.family.landed ?? LANDED;
    const fault: Condition = {
      description: `the ${plan.family.name} fault in place`,
      sources: state.sources,
      evaluate: () => ({ ok: typeof landed === 'function' ? landed(state) : ClusterState.diff(baseline, state.lines()).some((l) => landed.test(l)), observed: 'not yet' }),
    };
    // A run that ends (or fails) before its fault lands is signalled after its end: the attempt says so.
    await Promise.race([until(fault, { within: 120_000 }).catch(() => undefined), run.done]);
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, delayMs);
    void run.done.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  const interrupted = !ended;
  const killAtMs = Date.now() - started;
  const atKill = ClusterState.diff(baseline, state.lines());
  const landed = plan.family.landed ?? LANDED;
  const landedAtKill = interrupted && (typeof landed === 'function' ? landed(state) : atKill.some((l) => landed.test(l)));
  if (interrupted) run.child.kill(plan.signal);
  const done = await run.done;
  const runMs = Date.now() - started;
  let clean: Done | undefined;
  if (plan.signal === 'SIGKILL') clean = await kubeproof(['clean', ...cleanArgs(target)]).done;
  const leftovers = await state.settle(baseline, settleWithin);
  if (target.outside) {
    // A run's pods on a real node leave mounts, links and cgroups until their namespace is gone.
    if (plan.family.on === 'real') await runNamespacesGone(state, settleWithin);
    leftovers.push(...ClusterState.diff(target.outside.before, await target.outside.lines()).map((l) => `${l} (${target.outside!.what})`));
  }
  return { family: plan.family.name, signal: plan.signal, aim: plan.aim, delayMs, killAtMs, runMs, interrupted, atKill, landedAtKill, run: done, ...(clean ? { clean } : {}), leftovers, ms: Date.now() - started };
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
  return `${i !== undefined ? `#${i} ` : ''}${a.family} ${a.signal} ${a.aim === 'after-fault' ? `${(a.delayMs / 1000).toFixed(1)} s after the fault landed` : `at ${(a.delayMs / 1000).toFixed(1)} s`}${a.interrupted ? '' : ' (run had ended)'}: ${exit}${clean}, ${at} change(s) in place at the kill, ${a.leftovers.length ? `LEFT ${a.leftovers.join('; ')}` : 'left as found'} (${(a.ms / 1000).toFixed(1)} s)`;
}
