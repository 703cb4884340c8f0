/**
 * Node drain, as `kubectl drain` does it: cordon, then evict every evictable pod through the
 * Eviction API (never delete), so PodDisruptionBudgets are honoured. A refused eviction (429)
 * is retried when a budget it names allows a disruption again, or after a backoff, until the
 * deadline. Each pod's refusals are recorded: when first refused, by which budget, how often,
 * when it finally went. Revert: uncordon (only if kubeproof cordoned it).
 */
import type { Scenario } from '../scenario/scenario.js';
import { Slot } from '../scenario/slot.js';
import { BadInputError } from '../errors.js';
import { Informer, now } from '../kube/informer.js';
import { ApiError } from '../kube/errors.js';
import type { Node, Pod, PodDisruptionBudget } from '../kube/types.js';
import { matches, requirementsOf, type LabelSelector } from '../workload/selector.js';
import { injectFault, type Inject } from './fault.js';
import { formatDuration } from '../log.js';
import { resolveNodes, type NodeTarget } from './nodes.js';
import { askEviction, allowed, budgetsSelecting, describeAnswer, type EvictionAnswer } from './eviction-answer.js';

export interface PdbState {
  name: string;
  namespace: string;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
}

export interface DrainPlan {
  node: string;
  alreadyCordoned: boolean;
  /** Pods that will be evicted, with the budgets that govern them now. */
  evict: Array<{ pod: string; namespace: string; owner: string; pdbs: PdbState[] }>;
  /** Pods left alone (DaemonSet-managed, mirror, already terminating). */
  skipped: Array<{ pod: string; namespace: string; why: string }>;
  /** Per owner of an evicted pod: its Ready pods on other nodes, i.e. what keeps serving while replacements start. */
  leftRunning: Array<{ owner: string; namespace: string; readyElsewhere: number; total: number }>;
}

export interface PodEviction {
  pod: string;
  namespace: string;
  firstRefusedAt?: number;
  refusals: number;
  /** Budgets that refused it (from the API's message, cross-checked with the PDBs selecting the pod). */
  blockedBy: string[];
  evictedAt?: number;
  goneAt?: number;
  error?: string;
  /** The pod's labels when the drain began (to tell which workload it belonged to). */
  labels?: Record<string, string>;
  /** Every answer of the Eviction API, in order; a run of the same status is one entry with its count. */
  answers: Array<EvictionAnswer & { times: number }>;
}

export interface DrainResult {
  node: string;
  startedAt: number;
  completedAt?: number;
  evictions: PodEviction[];
  gaveUp?: { at: number; pods: string[]; blockedBy: string[] };
}

/** Drains of this scenario, by node, for the steps that assert on them. */
export const DRAINS = new Slot('drains', () => new Map<string, DrainResult>());

const RETRY_AFTER_MS = 5_000; // as kubectl drain, when no budget event comes first

function ownerOf(p: Pod): { kind: string; name: string } | undefined {
  const o = p.metadata?.ownerReferences?.find((r) => r.controller);
  return o ? { kind: o.kind, name: o.name } : undefined;
}

function pdbState(b: PodDisruptionBudget): PdbState {
  return {
    name: b.metadata!.name!,
    namespace: b.metadata!.namespace!,
    disruptionsAllowed: b.status?.disruptionsAllowed ?? 0,
    currentHealthy: b.status?.currentHealthy ?? 0,
    desiredHealthy: b.status?.desiredHealthy ?? 0,
  };
}

/** Namespaces read at once by one round of planning (20 lists of 500 pods in flight together were ~250 MB). */
const READS_AT_ONCE = 4;

/** What the plan needs of a pod of the namespace: its owner, node, readiness. */
interface Sibling {
  node?: string;
  ready: boolean;
}

/**
 * What one round of planning reads, each list once per namespace: the budgets, and the pods
 * indexed by owner (only what the plan needs of each). Planning 50 nodes at once used to list
 * the namespace's budgets once per pod and all its pods once per owner and node — thousands of
 * lists of hundreds of pods at 1,000 nodes, and the memory of all of them in flight together.
 */
export class PlanReads {
  private readonly budgets = new Map<string, Promise<PodDisruptionBudget[]>>();
  private readonly owners = new Map<string, Promise<Map<string, Sibling[]>>>();
  /** Lists made, by what (for tests and the bench). */
  readonly lists = { pdbs: 0, pods: 0 };
  /** Lists in flight, at most READS_AT_ONCE: each is a namespace's pods, megabytes of JSON until indexed. */
  private inFlight = 0;
  private readonly queued: Array<() => void> = [];

  constructor(private readonly kube: Scenario['kube']) {}

  private async limited<T>(read: () => Promise<T>): Promise<T> {
    // A slot that frees is handed to the next in line, never counted down in between.
    if (this.inFlight >= READS_AT_ONCE) await new Promise<void>((resolve) => this.queued.push(resolve));
    else this.inFlight++;
    try {
      return await read();
    } finally {
      const next = this.queued.shift();
      if (next) next();
      else this.inFlight--;
    }
  }

  pdbsOf(namespace: string): Promise<PodDisruptionBudget[]> {
    let p = this.budgets.get(namespace);
    if (!p) {
      this.lists.pdbs++;
      p = this.limited(() => this.kube.list<PodDisruptionBudget>('PodDisruptionBudget', { namespace })).then((l) => l.items);
      this.budgets.set(namespace, p);
    }
    return p;
  }

  /** The namespace's pods that are not terminating, by owner ("ReplicaSet/web-5f…"). */
  ownersOf(namespace: string): Promise<Map<string, Sibling[]>> {
    let p = this.owners.get(namespace);
    if (!p) {
      this.lists.pods++;
      p = this.limited(() => this.kube.list<Pod>('Pod', { namespace })).then((l) => {
        const byOwner = new Map<string, Sibling[]>();
        for (const pod of l.items) {
          const o = ownerOf(pod);
          if (!o || pod.metadata?.deletionTimestamp) continue;
          const key = `${o.kind}/${o.name}`;
          const list = byOwner.get(key) ?? [];
          byOwner.set(key, list);
          list.push({ node: pod.spec?.nodeName, ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false });
        }
        return byOwner;
      });
      this.owners.set(namespace, p);
    }
    return p;
  }
}

async function pdbsFor(reads: PlanReads, pod: Pod): Promise<PdbState[]> {
  return (await reads.pdbsOf(pod.metadata!.namespace!)).filter((b) => b.spec?.selector && matches(pod.metadata?.labels, requirementsOf(b.spec.selector as LabelSelector))).map(pdbState);
}

/**
 * Work out what a drain would do, changing nothing. Plans made together (several nodes at
 * once) share `reads`: each namespace's pods and budgets are listed once for all of them.
 */
export async function planDrain(s: Scenario, node: string, opts: { allowUnmanaged?: boolean } = {}, reads = new PlanReads(s.kube)): Promise<DrainPlan> {
  const n = await s.kube.find<Node>('Node', node);
  if (!n) throw new BadInputError(`node "${node}" does not exist`);
  const pods = (await s.kube.list<Pod>('Pod', { fieldSelector: `spec.nodeName=${node}` })).items;
  const plan: DrainPlan = { node, alreadyCordoned: Boolean(n.spec?.unschedulable), evict: [], skipped: [], leftRunning: [] };
  const unmanaged: string[] = [];
  for (const p of pods) {
    const ref = { pod: p.metadata!.name!, namespace: p.metadata!.namespace! };
    const owner = ownerOf(p);
    if (p.metadata?.annotations?.['kubernetes.io/config.mirror']) plan.skipped.push({ ...ref, why: 'mirror pod' });
    else if (owner?.kind === 'DaemonSet') plan.skipped.push({ ...ref, why: `managed by DaemonSet ${owner.name}` });
    else if (p.metadata?.deletionTimestamp) plan.skipped.push({ ...ref, why: 'already terminating' });
    else {
      if (!owner && !opts.allowUnmanaged) unmanaged.push(`${ref.namespace}/${ref.pod}`);
      plan.evict.push({ ...ref, owner: owner ? `${owner.kind}/${owner.name}` : 'none', pdbs: await pdbsFor(reads, p) });
    }
  }
  if (unmanaged.length) {
    throw new BadInputError(`node ${node} runs pods that no controller would recreate: ${unmanaged.join(', ')}`, {
      hint: 'kubectl drain refuses these too; write "is drained, including pods without a controller" to evict them anyway',
    });
  }
  for (const key of new Set(plan.evict.filter((e) => e.owner !== 'none').map((e) => `${e.namespace}/${e.owner}`))) {
    const [namespace, owner] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    const siblings = (await reads.ownersOf(namespace)).get(owner) ?? [];
    const readyElsewhere = siblings.filter((p) => p.node !== node && p.ready).length;
    plan.leftRunning.push({ owner, namespace, readyElsewhere, total: siblings.length });
  }
  return plan;
}

export function describeDrainPlan(plan: DrainPlan): string {
  const lines = [`drain node ${plan.node}${plan.alreadyCordoned ? ' (already cordoned: stays cordoned after the revert)' : ''}: evict ${plan.evict.length} pod(s)`];
  for (const e of plan.evict) {
    const pdbs = e.pdbs.length ? e.pdbs.map((b) => `PDB ${b.name} allows ${b.disruptionsAllowed} disruption(s) (healthy ${b.currentHealthy}/${b.desiredHealthy})`).join('; ') : 'no PDB';
    lines.push(`  evict ${e.namespace}/${e.pod} (${e.owner}) — ${pdbs}`);
  }
  for (const k of plan.skipped) lines.push(`  leave ${k.namespace}/${k.pod}: ${k.why}`);
  for (const r of plan.leftRunning) lines.push(`  ${r.owner} keeps ${r.readyElsewhere} of ${r.total} pod(s) Ready on other nodes until its replacements are Ready`);
  return lines.join('\n');
}

/**
 * Cordon the node and evict its pods. Resolves when every evicted pod is gone, or at the
 * deadline with `gaveUp` set (the node stays cordoned until the scenario's revert).
 */
export async function drainNode(s: Scenario, plan: DrainPlan, opts: { deadlineMs: number; gracePeriodSeconds?: number; reportRefusals?: boolean }, inject: Inject): Promise<DrainResult> {
  const result: DrainResult = { node: plan.node, startedAt: now(), evictions: plan.evict.map((e) => ({ pod: e.pod, namespace: e.namespace, refusals: 0, blockedBy: [], answers: [] })) };
  s.state(DRAINS).set(plan.node, result);
  const pods = new Informer<Pod>(s.kube, 'Pod', { fieldSelector: `spec.nodeName=${plan.node}` });
  const pdbs = new Informer<PodDisruptionBudget>(s.kube, 'PodDisruptionBudget');
  await Promise.all([pods.start(), pdbs.start()]);
  for (const ev of result.evictions) ev.labels = pods.get(ev.pod, ev.namespace)?.metadata?.labels;
  const deadline = result.startedAt + opts.deadlineMs;
  try {
    await inject(
      { fault: 'drain node', target: { kind: 'Node', name: plan.node }, undo: plan.alreadyCordoned ? undefined : { op: 'uncordon' }, detail: `cordon and evict ${plan.evict.length} pod(s)` },
      async ({ annotations, at }) => {
        result.startedAt = at;
        if (!plan.alreadyCordoned) await s.kube.mergePatch('Node', plan.node, undefined, { spec: { unschedulable: true }, metadata: { annotations } });
      },
    );
    await Promise.all(result.evictions.map((ev) => evictUntilGone(s, ev, pods, pdbs, deadline, opts.gracePeriodSeconds, opts.reportRefusals)));
    const left = result.evictions.filter((e) => e.goneAt === undefined);
    if (left.length === 0) {
      result.completedAt = Math.max(result.startedAt, ...result.evictions.map((e) => e.goneAt!));
      s.timeline.mark('drain complete', `node ${plan.node} in ${formatDuration(result.completedAt - result.startedAt)}`);
      s.timeline.measure({ name: `drain of node ${plan.node}`, value: Math.round(result.completedAt - result.startedAt), unit: 'ms', detail: drainDetail(result) });
    } else {
      const blockedBy = [...new Set(left.flatMap((e) => e.blockedBy))];
      result.gaveUp = { at: now(), pods: left.map((e) => `${e.namespace}/${e.pod}`), blockedBy };
      const refused = left.filter((e) => e.error).map((e) => `${e.pod}: ${e.error}`);
      s.timeline.mark('drain gave up', `node ${plan.node}: ${left.length} pod(s) not evicted after ${formatDuration(opts.deadlineMs)}${blockedBy.length ? `, blocked by PodDisruptionBudget ${blockedBy.join(', ')}` : ''}${refused.length ? `; refused: ${refused.join('; ')}` : ''}`);
      s.timeline.measure({ name: `drain of node ${plan.node} (gave up)`, value: Math.round(result.gaveUp.at - result.startedAt), unit: 'ms', detail: drainDetail(result) });
    }
    return result;
  } finally {
    await Promise.all([pods.stop(), pdbs.stop()]);
  }
}

function drainDetail(r: DrainResult): Record<string, unknown> {
  return {
    pods: r.evictions.map((e) => ({
      pod: `${e.namespace}/${e.pod}`,
      refusals: e.refusals,
      blockedBy: e.blockedBy,
      answers: e.answers.map((a) => ({ status: a.status, times: a.times, message: a.message, ...(a.named.length ? { budget: a.named } : {}), ...(a.selecting.length ? { selectedBy: a.selecting } : {}) })),
      blockedMs: e.firstRefusedAt !== undefined ? Math.round((e.evictedAt ?? r.gaveUp?.at ?? now()) - e.firstRefusedAt) : 0,
      evictedAfterMs: e.evictedAt !== undefined ? Math.round(e.evictedAt - r.startedAt) : undefined,
      goneAfterMs: e.goneAt !== undefined ? Math.round(e.goneAt - r.startedAt) : undefined,
    })),
    ...(r.gaveUp ? { gaveUp: r.gaveUp } : {}),
  };
}

/** Resolve when `test` holds on an event of `source`, or after `ms`, whichever is first. */
function eventOrTimeout<T extends object>(source: Informer<any>, test: () => boolean, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (test()) return resolve();
    const off = source.on(() => {
      if (test()) done();
    });
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      off();
      clearTimeout(timer);
      resolve();
    }
  });
}

async function evictUntilGone(s: Scenario, ev: PodEviction, pods: Informer<Pod>, pdbs: Informer<PodDisruptionBudget>, deadline: number, gracePeriodSeconds?: number, reportRefusals = false): Promise<void> {
  const gone = () => {
    const p = pods.get(ev.pod, ev.namespace);
    return !p || p.spec?.nodeName === undefined;
  };
  while (ev.evictedAt === undefined && now() < deadline) {
    const selecting = budgetsSelecting(pdbs.list(), ev.namespace, pods.get(ev.pod, ev.namespace)?.metadata?.labels ?? ev.labels);
    const answer = await askEviction(s, ev.pod, ev.namespace, { gracePeriodSeconds, selecting });
    const last = ev.answers.at(-1);
    if (last && last.status === answer.status && last.message === answer.message) last.times += 1;
    else ev.answers.push({ ...answer, times: 1 });
    if (allowed(answer.status)) {
      ev.evictedAt = answer.at;
      break;
    }
    // Gone already, or its namespace is being deleted (which removes it): nothing to evict.
    if (answer.status === 404 || (answer.status === 403 && /being terminated/.test(answer.message))) {
      ev.evictedAt = answer.at;
      break;
    }
    if (answer.status !== 429) {
      ev.error = describeAnswer(answer);
      s.timeline.mark('eviction refused', `${ev.namespace}/${ev.pod}: ${describeAnswer(answer)}`);
      // Reported, not fatal, when the step says so: the pod stays, the drain gives up on it.
      if (reportRefusals) return;
      throw new ApiError(answer.status, answer.reason ?? '', answer.message);
    }
    ev.refusals += 1;
    ev.firstRefusedAt ??= answer.at;
    const named = answer.named.filter((n) => selecting.length === 0 || selecting.includes(n));
    ev.blockedBy = [...new Set([...ev.blockedBy, ...(named.length ? named : selecting)])];
    if (ev.refusals === 1) s.timeline.mark('eviction refused', `${ev.namespace}/${ev.pod}: ${answer.message}${ev.blockedBy.length ? ` (PodDisruptionBudget ${ev.blockedBy.join(', ')})` : ''}`);
    // Retry when a budget of this pod allows a disruption again, or after the backoff.
    const allows = () => ev.blockedBy.some((n) => (pdbs.get(n, ev.namespace)?.status?.disruptionsAllowed ?? 0) > 0);
    await eventOrTimeout(pdbs, allows, Math.min(RETRY_AFTER_MS, deadline - now()));
  }
  if (ev.evictedAt === undefined) return;
  await eventOrTimeout(pods, gone, deadline - now());
  if (gone()) ev.goneAt = now();
}

export interface DrainRequest {
  nodes: NodeTarget;
  deadlineMs: number;
  /** Fail the step when a node cannot be drained by the deadline (else: give up cleanly and record why). */
  mustComplete: boolean;
  allowUnmanaged?: boolean;
  /** Several nodes: one after another (default) or all at once. */
  atOnce?: boolean;
  /** An eviction refused otherwise than by a budget's 429 (e.g. 500: two budgets select the pod) is recorded and the pod left, instead of failing the drain. */
  reportRefusals?: boolean;
}

/** Drain one or several nodes (in plan mode: print what would happen, change nothing). */
export async function drain(s: Scenario, req: DrainRequest): Promise<DrainResult[]> {
  const names = resolveNodes(s, req.nodes);
  const first = new PlanReads(s.kube);
  const results = await injectFault(s, Promise.all(names.map((n) => planDrain(s, n, req, first))), (plans) => plans.map(describeDrainPlan), async (_, inject) => {
    // Each node is planned again right before its drain: an earlier drain moves pods. Nodes
    // drained at once are planned again together (one read of each namespace for all of them).
    const together = new PlanReads(s.kube);
    const one = async (node: string) => drainNode(s, await planDrain(s, node, req, req.atOnce ? together : undefined), { deadlineMs: req.deadlineMs, reportRefusals: req.reportRefusals }, inject);
    return req.atOnce ? Promise.all(names.map(one)) : sequentially(names, one);
  });
  if (!results) return [];
  const stuck = results.filter((r) => r.gaveUp);
  if (req.mustComplete && stuck.length) {
    throw new Error(
      stuck
        .map((r) => `node ${r.node} not drained after ${formatDuration(r.gaveUp!.at - r.startedAt)}: ${r.gaveUp!.pods.join(', ')} could not be evicted${r.gaveUp!.blockedBy.length ? ` (PodDisruptionBudget ${r.gaveUp!.blockedBy.join(', ')} refused)` : ''}`)
        .join('\n'),
    );
  }
  return results;
}

async function sequentially<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await fn(item));
  return out;
}
