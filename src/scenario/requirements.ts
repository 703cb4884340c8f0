/**
 * What a scenario needs of the cluster ("3 nodes in zones a, b, c", "a KWOK node big-1 with
 * 8 CPUs"). On the local cluster missing KWOK nodes are added (and removed again after the
 * scenario); elsewhere a cluster that lacks them makes the scenario not applicable.
 */
import type { Scenario } from './scenario.js';
import { BadInputError } from '../errors.js';
import { NODE_TYPE_LABEL, ZONE_LABEL, nodeReadyCondition } from '../cluster/nodes.js';
import type { NodeSpec } from '../cluster/providers/provider.js';
import { NotApplicable } from '../not-applicable.js';
import { ConditionTimeout, until } from '../expect/until.js';
import type { HostRequirement } from '../cluster/real-node/host.js';

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
  if (!s.cluster.capabilities.simulatedNodes) {
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

/** Add KWOK nodes for this scenario; they are deleted when it ends. */
export async function addNodes(s: Scenario, specs: NodeSpec[]): Promise<void> {
  if (!s.cluster.capabilities.simulatedNodes) throw new NotApplicable('adding nodes needs a cluster with simulated (KWOK) nodes');
  for (const spec of specs) {
    if (s.timeline.nodes.get(spec.name)) throw new BadInputError(`node "${spec.name}" already exists`);
  }
  s.timeline.mark('add nodes', specs.map((n) => n.name).join(', '));
  for (const spec of specs) s.onCleanup(`delete node ${spec.name}`, () => removeNode(s, spec.name));
  // Loaded here, not at start: the local provider brings the image builder and kwokctl's tooling.
  const { createNodes } = await import('../cluster/providers/local.js');
  await createNodes(s.kube, specs, () => undefined);
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
 * Delete a node kubeproof added. Its pods go first, at once: once the node is gone kwok no
 * longer finishes their deletion, and they would hold their namespace in Terminating until
 * the pod garbage collector's quarantine ends.
 */
async function removeNode(s: Scenario, name: string): Promise<void> {
  const pods = await s.kube.list('Pod', { fieldSelector: `spec.nodeName=${name}` });
  await Promise.all(pods.items.map((p) => s.kube.delete('Pod', p.metadata!.name!, p.metadata!.namespace, { gracePeriodSeconds: 0 }).catch(() => undefined)));
  await s.kube.delete('Node', name);
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
  if (!s.cluster.capabilities.simulatedNodes) {
    const others = s.cluster.capabilities.realNodes;
    throw new NotApplicable(
      others.length
        ? `needs a node labelled ${NODE_TYPE_LABEL}=real (the @real workloads select it, as they select the local cluster's real-1); this ${s.cluster.kind} cluster's nodes ${others.join(', ')} run real containers but none carries the label (kubeproof run --cluster kind makes a real-1 worker when @real scenarios are selected, or --real-nodes 1)`
        : `needs a node with real containers; this ${s.cluster.kind} cluster reports none`,
    );
  }
  const { realNodeRequirements, installHint } = await import('../cluster/real-node/host.js');
  const { listLocalClusters } = await import('../cluster/providers/local.js');
  const { realNodeHolder } = await import('../cluster/real-node/teardown.js');
  const missing = (await realNodeRequirements()).filter((r) => !r.ok);
  const holder = await realNodeHolder(s.cluster.name);
  throw new NotApplicable(noRealNodeReason(s.cluster.name, { missing, install: installHint(missing) }, holder));
}

/**
 * Why a local run has no real node, with the fix for that cause: the packages this machine
 * lacks and the one command that installs them; another cluster holding the machine's one real
 * node; or a running cluster started without one.
 */
export function noRealNodeReason(cluster: string, host: { missing: HostRequirement[]; install: string }, holder?: string): string {
  if (host.missing.length) {
    return `needs a real node (kubelet + containerd), and this machine lacks ${host.missing.map((m) => `${m.name} (${m.detail})`).join(', ')}; install: ${host.install} (kubeproof run then starts the real node by itself for @real scenarios)`;
  }
  if (holder) return `needs a real node, and cluster "${holder}" holds this machine's one real node: \`kubeproof cluster down --name ${holder}\` frees it`;
  return `needs a real node, and the local cluster "${cluster}" was started without one: \`kubeproof cluster up --name ${cluster} --real-nodes 1\` (kubeproof run starts one by itself for @real scenarios on a fresh cluster)`;
}

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
