/**
 * One ordered log of what happened during a scenario: every watch event on the scenario's
 * namespace (pods, workloads, EndpointSlices, PDBs, HPAs, Events) and on nodes, stamped
 * when it arrived, interleaved with the harness's own actions. The informers behind it are
 * the ones conditions wait on, so what is asserted and what is reported are the same data.
 */
import type { Kube } from '../kube/client.js';
import { Informer, now, type Change, type WatchGap } from '../kube/informer.js';
import { formatDuration } from '../log.js';
import type { KubeObject, Pod, Node, EndpointSlice, PodDisruptionBudget, HorizontalPodAutoscaler, Event } from '../kube/types.js';

export interface WatchEntry {
  at: number;
  source: 'watch';
  kind: string;
  type: Change['type'];
  name: string;
  namespace?: string;
  /** A compact description of the object's state after the change ("Running Ready on node-2"). */
  state: string;
  /** Numbers the reports chart (ready replicas, desired replicas, disruptionsAllowed…). */
  figures?: Record<string, number>;
  /** Pods: their labels and node, so queries can replay which pods of a workload were available when. */
  labels?: Record<string, string>;
  node?: string;
}

export interface ActionEntry {
  at: number;
  source: 'harness';
  action: string;
  detail: string;
}

export type TimelineEntry = WatchEntry | ActionEntry;

/** A figure a step measured ("recovery time of deployment web" = 1.8 s). */
export interface Measurement {
  name: string;
  value: number;
  unit: 'ms' | 's' | '%' | 'count' | 'replicas';
  /** Extra data for reports (per-trial values, percentiles, seed…). */
  detail?: Record<string, unknown>;
}

const NAMESPACED_KINDS = ['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'EndpointSlice', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'Event', 'Service', 'ResourceQuota'] as const;
type WatchedKind = (typeof NAMESPACED_KINDS)[number] | 'Node';

export class Timeline {
  readonly entries: TimelineEntry[] = [];
  readonly measurements: Measurement[] = [];
  private readonly informers = new Map<WatchedKind, Informer<any>>();
  readonly startedAt = now();
  private started: Promise<void> | undefined;

  constructor(
    private readonly kube: Kube,
    readonly namespace: string,
  ) {
    for (const kind of NAMESPACED_KINDS) this.informers.set(kind, new Informer(kube, kind, { namespace }));
    this.informers.set('Node', new Informer(kube, 'Node'));
    for (const [kind, inf] of this.informers) {
      inf.on((c: Change) => this.record(kind, c));
      inf.onGap((g) => this.recordGap(g));
    }
  }

  /** Start every informer; resolves when all have listed. */
  start(): Promise<void> {
    this.started ??= Promise.all([...this.informers.values()].map((i) => i.start())).then(() => undefined);
    return this.started;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }

  get pods(): Informer<Pod> {
    return this.informers.get('Pod')!;
  }
  get nodes(): Informer<Node> {
    return this.informers.get('Node')!;
  }
  get endpointSlices(): Informer<EndpointSlice> {
    return this.informers.get('EndpointSlice')!;
  }
  get pdbs(): Informer<PodDisruptionBudget> {
    return this.informers.get('PodDisruptionBudget')!;
  }
  get hpas(): Informer<HorizontalPodAutoscaler> {
    return this.informers.get('HorizontalPodAutoscaler')!;
  }
  get events(): Informer<Event> {
    return this.informers.get('Event')!;
  }
  /** The informer for a workload kind (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, Service). */
  informer(kind: string): Informer<KubeObject> {
    const inf = this.informers.get(kind as WatchedKind);
    if (!inf) throw new Error(`the timeline does not watch ${kind}`);
    return inf;
  }

  watches(kind: string): boolean {
    return this.informers.has(kind as WatchedKind);
  }

  /** Record a harness action (a fault injected, a manifest applied) and return its time. */
  mark(action: string, detail: string): ActionEntry {
    const entry: ActionEntry = { at: now(), source: 'harness', action, detail };
    this.entries.push(entry);
    return entry;
  }

  measure(m: Measurement): void {
    // Two steps asking one question of the same data ("blocked for at least 1 s", "… at most 60 s") give one figure: report it once.
    if (this.measurements.some((x) => x.name === m.name && x.unit === m.unit && x.value === m.value && JSON.stringify(x.detail) === JSON.stringify(m.detail))) return;
    this.measurements.push(m);
  }

  /** The last harness action with this name. */
  lastAction(action: string): ActionEntry | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.source === 'harness' && e.action === action) return e;
    }
    return undefined;
  }

  /** Whether the scenario's watches ever saw this object (it exists now, or did at some moment): a step naming an object that never existed fails. */
  everSeen(kind: string, name: string): boolean {
    const inf = this.informers.get(kind as WatchedKind);
    if (inf?.get(name, kind === 'Node' ? undefined : this.namespace)) return true;
    return this.entries.some((e) => e.source === 'watch' && e.kind === kind && e.name === name);
  }

  watchEntries(kind?: string, since = 0): WatchEntry[] {
    return this.entries.filter((e): e is WatchEntry => e.source === 'watch' && e.at >= since && (!kind || e.kind === kind));
  }

  /** Events (the Kubernetes kind) involving an object, newest last, for failure messages. */
  recentEvents(opts: { names?: string[]; limit?: number } = {}): string[] {
    const names = opts.names ? new Set(opts.names) : undefined;
    const evs = this.events
      .list()
      .filter((e) => !names || names.has(e.involvedObject?.name ?? ''))
      .sort((a, b) => eventTime(a) - eventTime(b));
    return evs.slice(-(opts.limit ?? 10)).map((e) => `${e.type ?? ''} ${e.reason ?? ''} ${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}: ${e.message ?? ''}`.trim());
  }

  /** The outage being recorded: every watch it broke resumes on its own, each reporting its gap. */
  private gap: { entry: ActionEntry; to: number; kinds: Set<string>; relisted: boolean; error?: string } | undefined;

  /**
   * A time without watch events (the API server unreachable): one entry at its start per
   * outage, however many watches it broke, saying that what changed in it arrived late.
   */
  private recordGap(g: WatchGap): void {
    let open = this.gap;
    if (!open || g.from > open.to + 1000) {
      const entry: ActionEntry = { at: g.from, source: 'harness', action: 'watch gap', detail: '' };
      const i = this.entries.findIndex((e) => e.at > g.from);
      this.entries.splice(i < 0 ? this.entries.length : i, 0, entry);
      open = this.gap = { entry, to: g.to, kinds: new Set(), relisted: false };
    }
    open.kinds.add(g.kind);
    open.to = Math.max(open.to, g.to);
    open.relisted ||= g.relisted;
    open.error = g.error ?? open.error;
    const e = open.entry;
    e.detail = `no watch events for ${formatDuration(open.to - e.at)} (${[...open.kinds].sort().join(', ')}): the API server was not answering${open.error ? ` (${open.error})` : ''}; the watches resumed${open.relisted ? ' by listing again (410 Gone)' : ''}, and what changed meanwhile is stamped when it arrived`;
  }

  private record(kind: WatchedKind, c: Change): void {
    const o = c.object;
    this.entries.push({
      at: c.at,
      source: 'watch',
      kind,
      type: c.type,
      name: o.metadata?.name ?? '',
      namespace: o.metadata?.namespace,
      ...describe(kind, o, c.type),
    });
  }
}

function eventTime(e: Event): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp;
  return t ? new Date(t as unknown as string).getTime() : 0;
}

export function podReady(p: Pod | undefined): boolean {
  return p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function podDeleting(p: Pod): boolean {
  return Boolean(p.metadata?.deletionTimestamp);
}

function describe(kind: WatchedKind, o: any, type: Change['type']): Pick<WatchEntry, 'state' | 'figures' | 'labels' | 'node'> {
  if (type === 'deleted') return kind === 'Pod' ? { state: 'deleted', figures: { available: 0 }, labels: o.metadata?.labels ?? {}, node: o.spec?.nodeName } : { state: 'deleted' };
  switch (kind) {
    case 'Pod': {
      const p = o as Pod;
      const ready = podReady(p) ? 'Ready' : 'NotReady';
      const where = p.spec?.nodeName ? ` on ${p.spec.nodeName}` : ' unscheduled';
      const available = podReady(p) && !p.metadata?.deletionTimestamp ? 1 : 0;
      return {
        state: `${p.metadata?.deletionTimestamp ? 'Terminating' : (p.status?.phase ?? 'Pending')} ${ready}${where}`,
        figures: { available },
        labels: p.metadata?.labels ?? {},
        ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}),
      };
    }
    case 'Node': {
      const n = o as Node;
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '?';
      const taints = (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`);
      return { state: `Ready=${ready}${n.spec?.unschedulable ? ' cordoned' : ''}${taints.length ? ` taints=${taints.join(',')}` : ''}` };
    }
    case 'Deployment':
    case 'StatefulSet':
    case 'ReplicaSet': {
      const s = o.status ?? {};
      const figures = { replicas: o.spec?.replicas ?? 0, ready: s.readyReplicas ?? 0, available: s.availableReplicas ?? 0, updated: s.updatedReplicas ?? 0 };
      return { state: `${figures.ready}/${figures.replicas} ready, ${figures.available} available`, figures };
    }
    case 'DaemonSet': {
      const s = o.status ?? {};
      const figures = { desired: s.desiredNumberScheduled ?? 0, ready: s.numberReady ?? 0 };
      return { state: `${figures.ready}/${figures.desired} ready`, figures };
    }
    case 'Job': {
      const s = o.status ?? {};
      const figures = { active: s.active ?? 0, succeeded: s.succeeded ?? 0, failed: s.failed ?? 0 };
      return { state: `active ${figures.active}, succeeded ${figures.succeeded}, failed ${figures.failed}`, figures };
    }
    case 'EndpointSlice': {
      const eps = (o as EndpointSlice).endpoints ?? [];
      const figures = { ready: eps.filter((e) => e.conditions?.ready !== false).length, total: eps.length };
      return { state: `${figures.ready}/${figures.total} endpoints ready (service ${o.metadata?.labels?.['kubernetes.io/service-name'] ?? '?'})`, figures };
    }
    case 'PodDisruptionBudget': {
      const s = (o as PodDisruptionBudget).status;
      const figures = { disruptionsAllowed: s?.disruptionsAllowed ?? 0, currentHealthy: s?.currentHealthy ?? 0, desiredHealthy: s?.desiredHealthy ?? 0 };
      return { state: `disruptionsAllowed ${figures.disruptionsAllowed}, healthy ${figures.currentHealthy}/${figures.desiredHealthy}`, figures };
    }
    case 'HorizontalPodAutoscaler': {
      // The HPA's decision as it reported it: replicas now → wanted, the metric it acted on, and why (its conditions' reasons).
      const h = o as HorizontalPodAutoscaler;
      const figures = { current: h.status?.currentReplicas ?? 0, desired: h.status?.desiredReplicas ?? 0, min: h.spec?.minReplicas ?? 1, max: h.spec?.maxReplicas ?? 0 };
      const metric = h.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization;
      const reasons = (h.status?.conditions ?? []).map((c) => `${c.type}=${c.status}(${c.reason ?? ''})`).join(' ');
      return {
        state: `replicas ${figures.current} → ${figures.desired}${metric !== undefined ? `, cpu ${metric}%` : ''}${reasons ? `; ${reasons}` : ''}`,
        figures: metric !== undefined ? { ...figures, cpuUtilization: metric } : figures,
      };
    }
    case 'Event': {
      const e = o as Event;
      return { state: `${e.type ?? ''} ${e.reason ?? ''} ${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}: ${e.message ?? ''}`.trim() };
    }
    case 'Service':
      return { state: `type ${o.spec?.type ?? 'ClusterIP'}` };
    case 'ResourceQuota': {
      const hard = o.status?.hard ?? {};
      const used = o.status?.used ?? {};
      return { state: Object.keys(hard).length ? Object.keys(hard).map((k) => `${k} ${used[k] ?? '0'}/${hard[k]}`).join(', ') : 'not yet enforced' };
    }
  }
}
