/**
 * What a scenario needs of the cluster ("3 nodes in zones a, b, c", "a KWOK node big-1 with
 * 8 CPUs"). Where the cluster's node supply can (the local cluster: KWOK nodes) missing nodes
 * are added, labelled with the run and recorded in the ledger before they are made, so they
 * go when the scenario ends — or, after a SIGKILL, with `kubeproof clean` or the next run.
 * Elsewhere a cluster that lacks them makes the scenario not applicable.
 */
import type { Scenario } from './scenario.js';
import { BadInputError } from '../errors.js';
import { NODE_TYPE_LABEL, ZONE_LABEL, nodeReadyCondition } from '../cluster/nodes.js';
import { isRefusal, type NodeSpec } from '../cluster/providers/provider.js';
import { RUN_LABEL } from '../ledger/record.js';
import { NotApplicable } from '../not-applicable.js';
import { ConditionTimeout, until } from '../wait/until.js';

export interface NodeRequirement {
  count: number;
  zones?: string[];
  /** The scenario said "a local cluster": kept for its wording; any cluster with the nodes does. */
  local?: boolean;
  /** How long to wait for nodes that exist but are not Ready yet (default NODES_READY_WITHIN_MS). */
  withinMs?: number;
}

/** How long a requirement waits for nodes that exist but are not Ready yet (a kind worker whose CNI is starting). */
export const NODES_READY_WITHIN_MS = 120_000;

/** Ready, schedulable nodes by zone ('' for nodes without a zone label); `any`: Ready or not. */
function nodesByZone(s: Scenario, any = false): Map<string, string[]> {
  const byZone = new Map<string, string[]>();
  for (const n of s.timeline.nodes.list()) {
    if (!any && (nodeReadyCondition(n) !== 'True' || n.spec?.unschedulable)) continue;
    const z = n.metadata?.labels?.[ZONE_LABEL] ?? '';
    byZone.set(z, [...(byZone.get(z) ?? []), n.metadata!.name!]);
  }
  return byZone;
}

/**
 * At least `count` Ready nodes (in `zones`, spread round-robin). "a local cluster with N nodes"
 * asks the same of any cluster, so a feature written for the local cluster runs on kind and
 * existing clusters unchanged; only a cluster with simulated nodes can add the missing ones.
 */
export async function ensureNodes(s: Scenario, req: NodeRequirement): Promise<void> {
  if (missingNodes(s, req, false).length === 0) return;
  if (isRefusal(s.parts.nodeSupply)) {
    // Nodes that exist but are not Ready yet may become so (a new kind cluster's workers): wait for them, on node events.
    if (missingNodes(s, req, true).length === 0) {
      const outcome = await until(
        { description: describeRequirement(req), sources: [s.timeline.nodes], evaluate: () => ({ ok: missingNodes(s, req, false).length === 0, observed: describeNodes(s) }) },
        { within: req.withinMs ?? NODES_READY_WITHIN_MS },
      ).catch((err: unknown) => {
        if (err instanceof ConditionTimeout) return undefined;
        throw err;
      });
      if (outcome) return;
    }
    throw new NotApplicable(`${describeRequirement(req)}; the cluster has ${describeNodes(s)}`);
  }
  await addNodes(s, missingNodes(s, req, false));
}

function describeRequirement(req: NodeRequirement): string {
  return `needs ${req.count} Ready node(s)${req.zones ? ` in zones ${req.zones.join(', ')}` : ''}`;
}

function describeNodes(s: Scenario): string {
  const ready = nodesByZone(s);
  const all = nodesByZone(s, true);
  return [...all].map(([z, n]) => `${ready.get(z)?.length ?? 0} Ready of ${n.length} in ${z ? `zone ${z}` : 'no zone'}`).join(', ') || 'no node';
}

/** The nodes each zone lacks for `count` nodes spread round-robin over the zones (`anyState`: counting nodes that are not Ready). */
function missingNodes(s: Scenario, req: NodeRequirement, anyState: boolean): NodeSpec[] {
  const zones = req.zones?.length ? req.zones : [''];
  const byZone = nodesByZone(s, anyState);
  const missing: NodeSpec[] = [];
  zones.forEach((zone, zi) => {
    const want = Math.floor(req.count / zones.length) + (zi < req.count % zones.length ? 1 : 0);
    const have = zone ? (byZone.get(zone)?.length ?? 0) : [...byZone.values()].flat().length;
    for (let i = have; i < want; i++) missing.push({ name: `${zone || 'node'}-extra-${i + 1}-${s.namespace.slice(-6)}`, ...(zone ? { zone } : {}) });
  });
  return missing;
}

/**
 * Add nodes for this scenario through the cluster's node supply. Each is recorded in the
 * ledger (its undo deletes it, its pods first) before it is made, and carries the run's label,
 * so the undo deletes only a node of this run; the scenario's end runs that undo.
 */
export async function addNodes(s: Scenario, specs: NodeSpec[]): Promise<void> {
  const supply = s.parts.nodeSupply;
  if (isRefusal(supply)) throw new NotApplicable(`adding nodes: ${supply.refused}`);
  for (const spec of specs) {
    if (s.timeline.nodes.get(spec.name)) throw new BadInputError(`node "${spec.name}" already exists`);
  }
  s.timeline.mark('add nodes', specs.map((n) => n.name).join(', '));
  await s.ledger.injecting(async () => {
    for (const spec of specs) {
      const rec = await s.ledger.record({ id: s.ledger.newId('add-node'), fault: 'add node', target: { kind: 'Node', name: spec.name }, undo: supply.undo });
      s.onCleanup(`delete node ${spec.name}`, async () => {
        const { outcome } = await s.ledger.revert(rec);
        if (outcome.status === 'failed' || outcome.status === 'conflict') throw new Error(outcome.detail);
      });
    }
    await supply.add(s.kube, specs.map((spec) => ({ ...spec, labels: { ...spec.labels, [RUN_LABEL]: s.runId } })));
  });
}

/** A node spec from a feature's table: zone, cpu, memory, pods, label k=v (repeatable), taint k=v:Effect (repeatable). */
export function nodeSpecFromRows(name: string, rows: string[][]): NodeSpec {
  const spec: NodeSpec = { name, allocatable: {}, labels: {}, taints: [] };
  for (const [key, value] of rows) {
    if (key === undefined || value === undefined) continue;
    switch (key.trim()) {
      case 'zone':
        spec.zone = value;
        break;
      case 'cpu':
      case 'memory':
      case 'pods':
        spec.allocatable![key.trim()] = value;
        break;
      case 'label': {
        const [k, v] = value.split('=');
        if (!k) throw new BadInputError(`label "${value}" must be key=value`);
        spec.labels![k] = v ?? '';
        break;
      }
      case 'taint': {
        const m = value.match(/^([\w./-]+)(?:=([\w.-]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/);
        if (!m) throw new BadInputError(`taint "${value}" must be key[=value]:NoSchedule|PreferNoSchedule|NoExecute`);
        spec.taints!.push({ key: m[1]!, ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3] as 'NoSchedule' });
        break;
      }
      default:
        throw new BadInputError(`unknown node property "${key}" (zone, cpu, memory, pods, label, taint)`);
    }
  }
  return spec;
}

/**
 * The scenario needs a node whose pods are real containers (tag such scenarios @real).
 * Without one the scenario is not applicable, and the reason says how to get one.
 */
export async function requireRealNode(s: Scenario): Promise<string> {
  // The @real workloads select (and tolerate) the real node's label and taint: a node with real containers but without the label runs none of them.
  const real = s.cluster.capabilities.realNodes.filter((n) => s.timeline.nodes.get(n)?.metadata?.labels?.[NODE_TYPE_LABEL] === 'real');
  const ready = real.filter((n) => nodeReadyCondition(s.timeline.nodes.get(n)) === 'True');
  if (ready.length) return ready[0]!;
  if (real.length) throw new NotApplicable(`needs a Ready real node; ${real.join(', ')} ${real.length > 1 ? 'are' : 'is'} not Ready`);
  const others = s.cluster.capabilities.realNodes;
  if (others.length) {
    throw new NotApplicable(
      `needs a node labelled ${NODE_TYPE_LABEL}=real (the @real workloads select it, as they select the local cluster's real-1); this ${s.cluster.kind} cluster's nodes ${others.join(', ')} run real containers but none carries the label (kubeproof run --cluster kind makes a real-1 worker when @real scenarios are selected, or --real-nodes 1)`,
    );
  }
  // Why there is none, and the fix, is the provider's to say (the local one looks at this machine's packages and at who holds its one real node).
  throw new NotApplicable(await s.parts.realNode.whyNone());
}

/** Why a local run has no real node (the local provider's reason; src/cluster/advice.ts). */
export { noRealNodeReason } from '../cluster/advice.js';

/**
 * The scenario's claims rest on KWOK's stages (a crash back-off of its annotation's constant,
 * 1 s by default): on real kubelets the container's own process and the kubelet's back-off
 * (10 s, doubling) decide, so restarts counted within seconds do not happen there. Scenarios
 * whose claims hold either way do without this step and run on real kubelets too.
 */
export function requireSimulatedContainers(s: Scenario): void {
  if (!s.cluster.capabilities.simulatedNodes) {
    throw new NotApplicable(`its timings are KWOK's simulated crash back-off (a constant 1 s, annotation kubeproof.io/crash-backoff), and this ${s.cluster.kind} cluster has no simulated containers: its real kubelets back off 10 s, then 20 s, 40 s…, so the restarts it counts within seconds do not happen there`);
  }
}
