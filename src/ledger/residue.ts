/**
 * What a run leaves behind. The runner snapshots every node's schedulability, taints, labels
 * and annotations before the first scenario, and after the last undo waits (on node watch
 * events, with a deadline) until the nodes are back to that state. Whatever still differs is
 * residue: reported by name, and the run exits 4. The ledger says what kubeproof meant to
 * undo; this says what the cluster actually looks like, so a bug in an undo cannot hide.
 */
import type { Kube } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import type { Node } from '../kube/types.js';
import { until, ConditionTimeout } from '../wait/until.js';
import { FAULT_ANNOTATION_PREFIX } from './ledger.js';

export interface NodeState {
  unschedulable: boolean;
  taints: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export type NodeSnapshot = Map<string, NodeState>;

/** Annotations that controllers rewrite on their own (not a fault's doing). */
const VOLATILE_ANNOTATIONS = new Set(['node.alpha.kubernetes.io/ttl']);

export function nodeState(n: Node): NodeState {
  const annotations = Object.fromEntries(Object.entries(n.metadata?.annotations ?? {}).filter(([k]) => !VOLATILE_ANNOTATIONS.has(k)));
  return {
    unschedulable: Boolean(n.spec?.unschedulable),
    taints: (n.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).sort(),
    labels: { ...(n.metadata?.labels ?? {}) },
    annotations,
  };
}

export function snapshotOf(nodes: Node[]): NodeSnapshot {
  return new Map(nodes.map((n) => [n.metadata!.name!, nodeState(n)]));
}

/** Labels the node-lifecycle controller adds to new nodes on its own. */
const CONTROLLER_LABELS = /^beta\.kubernetes\.io\/(os|arch)$/;

function diffMaps(what: string, node: string, before: Record<string, string>, after: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(after)) {
    if (!(k in before) && !(what === 'label' && CONTROLLER_LABELS.test(k))) out.push(`node ${node}: ${what} ${k}=${v} added`);
    else if (before[k] !== v) out.push(`node ${node}: ${what} ${k} changed from "${before[k]}" to "${v}"`);
  }
  for (const k of Object.keys(before)) if (!(k in after)) out.push(`node ${node}: ${what} ${k} removed`);
  return out;
}

/** Every difference between two snapshots, one readable line each (empty: left as found). */
export function differences(before: NodeSnapshot, after: NodeSnapshot): string[] {
  const out: string[] = [];
  for (const [name, b] of before) {
    const a = after.get(name);
    if (!a) {
      out.push(`node ${name} is gone`);
      continue;
    }
    if (a.unschedulable !== b.unschedulable) out.push(`node ${name} is ${a.unschedulable ? 'cordoned' : 'uncordoned'} (was ${b.unschedulable ? 'cordoned' : 'schedulable'})`);
    for (const t of a.taints) if (!b.taints.includes(t)) out.push(`node ${name}: taint ${t} added`);
    // The node-lifecycle controller lifts its own taints (not-ready, unreachable) when a node recovers: not a loss.
    for (const t of b.taints) if (!a.taints.includes(t) && !t.startsWith('node.kubernetes.io/')) out.push(`node ${name}: taint ${t} removed`);
    out.push(...diffMaps('label', name, b.labels, a.labels), ...diffMaps('annotation', name, b.annotations, a.annotations));
  }
  for (const name of after.keys()) if (!before.has(name)) out.push(`node ${name} was added and is still there`);
  return out;
}

/** Only kubeproof's own traces: what must never be left on a cluster kubeproof does not own. */
export function kubeproofTraces(diff: string[]): string[] {
  return diff.filter((d) => d.includes(FAULT_ANNOTATION_PREFIX) || d.includes('kubeproof'));
}

export async function snapshotNodes(kube: Kube): Promise<NodeSnapshot> {
  return snapshotOf((await kube.list<Node>('Node')).items);
}

/**
 * Wait until the nodes are as they were (controllers finish some undos asynchronously: the
 * node-lifecycle controller lifts its taints a monitor period after a node is Ready again).
 * Resolves with what still differs at the deadline; empty when the cluster is as found.
 */
export async function awaitLeftAsFound(kube: Kube, before: NodeSnapshot, withinMs: number): Promise<string[]> {
  const nodes = new Informer<Node>(kube, 'Node');
  await nodes.start();
  const diff = () => differences(before, snapshotOf(nodes.list()));
  try {
    await until({ description: 'every node as it was before the run', sources: [nodes], evaluate: () => {
      const d = diff();
      return { ok: d.length === 0, observed: d.join('; ') || 'as found' };
    } }, { within: withinMs });
    return [];
  } catch (err) {
    if (err instanceof ConditionTimeout) return diff();
    throw err;
  } finally {
    await nodes.stop();
  }
}
