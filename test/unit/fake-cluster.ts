/**
 * A cluster in memory for the steps' library: objects by kind, lists and watches as the
 * informers use them, and writes that the watches see at once. Tests change it the way the
 * controllers would (`apply`, `remove`) and read the scenario's timeline, as a step does.
 */
import type { Kube } from '../../src/kube/client.js';
import { resourceType } from '../../src/kube/resources.js';
import { ApiError } from '../../src/kube/errors.js';
import { keyOf, type KubeObject, type Pod } from '../../src/kube/types.js';
import { Timeline } from '../../src/timeline/timeline.js';
import { now } from '../../src/kube/informer.js';
import type { Scenario } from '../../src/scenario/scenario.js';

type OnEvent = (phase: string, obj: KubeObject) => void;

export const NS = 'kp-test';

export class FakeCluster {
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly watches = new Map<string, Set<OnEvent>>();
  private rv = 100;
  /** Evictions asked for, and what the Eviction API answered (evictionAnswer: 201 unless a test says otherwise). */
  evictions: Array<{ pod: string; status: number }> = [];
  evictionAnswer: (pod: string) => number = () => 201;
  /** The budget a 429 names in its causes, as the API server's does (none unless a test sets it). */
  evictionBudget: string | undefined;

  asKube(): Kube {
    return {
      list: async (kind: string) => ({ items: [...(this.objects.get(kind)?.values() ?? [])].map((o) => structuredClone(o)), metadata: { resourceVersion: String(this.rv) } }),
      watch: async (path: string, _params: unknown, onEvent: OnEvent) => {
        const kind = resourceType(path.split('/').at(-1)!)!.kind;
        const set = this.watches.get(kind) ?? new Set();
        this.watches.set(kind, set);
        set.add(onEvent);
        return () => set.delete(onEvent);
      },
      evict: async (name: string) => {
        const status = this.evictionAnswer(name);
        this.evictions.push({ pod: name, status });
        if (status === 429) throw new ApiError(429, 'TooManyRequests', `Cannot evict pod as it would violate the pod's disruption budget.`, this.evictionBudget ? { causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${this.evictionBudget} needs 3 healthy pods and has 3 currently` }] } : undefined);
        if (status === 500) throw new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
        if (status >= 300) throw new ApiError(status, status === 404 ? 'NotFound' : '', `eviction answered ${status}`);
        return status;
      },
    } as unknown as Kube;
  }

  /** Create or replace an object (namespace defaults to the scenario's); open watches see it. */
  apply<T extends KubeObject>(obj: T): T {
    const o = structuredClone(obj) as T;
    const r = resourceType(o.kind!)!;
    o.metadata = { ...(r.namespaced ? { namespace: NS } : {}), ...o.metadata, resourceVersion: String(++this.rv) };
    const byKey = this.objects.get(r.kind) ?? new Map<string, KubeObject>();
    this.objects.set(r.kind, byKey);
    const existed = byKey.has(keyOf(o));
    byKey.set(keyOf(o), o);
    for (const w of this.watches.get(r.kind) ?? []) w(existed ? 'MODIFIED' : 'ADDED', structuredClone(o));
    return o;
  }

  remove(kind: string, name: string): void {
    const r = resourceType(kind)!;
    const byKey = this.objects.get(r.kind);
    const key = r.namespaced ? `${NS}/${name}` : name;
    const o = byKey?.get(key);
    if (!o) throw new Error(`no ${kind} ${name}`);
    byKey!.delete(key);
    for (const w of this.watches.get(r.kind) ?? []) w('DELETED', { ...structuredClone(o), metadata: { ...o.metadata, resourceVersion: String(++this.rv) } });
  }

  get<T extends KubeObject = KubeObject>(kind: string, name: string): T | undefined {
    const r = resourceType(kind)!;
    return this.objects.get(r.kind)?.get(r.namespaced ? `${NS}/${name}` : name) as T | undefined;
  }
}

/** Just enough of a Scenario for the expectations: the timeline over the fake cluster, faults recorded by `fault`. */
export async function fakeScenario(cluster: FakeCluster): Promise<Scenario & { fault: (type: string) => number }> {
  const kube = cluster.asKube();
  const timeline = new Timeline(kube, NS);
  await timeline.start();
  const faults: Scenario['faults'] = [];
  const slots = new Map<unknown, unknown>();
  const s = {
    state<T>(slot: { initial: () => T }): T {
      if (!slots.has(slot)) slots.set(slot, slot.initial());
      return slots.get(slot) as T;
    },
    kube,
    timeline,
    namespace: NS,
    runId: 'test',
    startedAt: now(),
    faults,
    drains: new Map(),
    nodeDowns: new Map(),
    readinessBreaks: [],
    containerKills: [],
    availability: new Map(),
    planOnly: false,
    plans: [],
    // A cluster that adds no nodes and has no real node (tests that need a part set their own).
    parts: { nodeSupply: { refused: 'the fake cluster adds no nodes' }, realNode: { whyNone: async () => 'needs a node with real containers; the fake cluster has none' } },
    fault(type: string) {
      const at = timeline.mark(type, 'test').at;
      faults.push({ id: `${type}-${faults.length + 1}`, type, target: '?', injectedAt: at, revert: 'reverted' });
      return at;
    },
  };
  return s as unknown as Scenario & { fault: (type: string) => number };
}

/** A pod of a workload: Running and Ready on a node, unless told otherwise. */
export function pod(name: string, labels: Record<string, string>, opts: { node?: string; ready?: boolean; terminating?: boolean; phase?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels, uid: `uid-${name}`, ...(opts.terminating ? { deletionTimestamp: new Date().toISOString() } : {}) } as Pod['metadata'],
    spec: { nodeName: opts.node ?? 'node-1', containers: [{ name: 'c', image: 'fake' }] },
    status: { phase: opts.phase ?? 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  } as Pod;
}

/** A workload object of any kind, with the status its controller reports. */
export function workload(kind: string, name: string, spec: Record<string, unknown>, status: Record<string, unknown>, generation = 1): KubeObject {
  const group = kind === 'Job' ? 'batch/v1' : 'apps/v1';
  return { apiVersion: group, kind, metadata: { name, generation }, spec: { selector: { matchLabels: { app: name } }, ...spec }, status } as KubeObject;
}
