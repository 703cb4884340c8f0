/** KWOK node objects: what a scenario asks for, as the Node the API server stores. */
import type { Manifest, Node } from '../kube/types.js';
import type { NodeSpec } from './providers/provider.js';

/** kwok manages (heartbeats, pod lifecycle) only nodes carrying this label = "fake". */
export const KWOK_NODE_LABEL = 'kwok.x-k8s.io/node';
/** The label that switches kwok's node-not-ready stage on a KWOK node. */
export const NOT_READY_STAGE_LABEL = 'node-not-ready.stage.kwok.x-k8s.io';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const NODE_TYPE_LABEL = 'kubeproof.io/node-type';
/**
 * The real node's taint (NoSchedule), registered by its kubelet: workloads written for KWOK nodes
 * (images this machine does not have, DaemonSets) stay off it, so a run that starts a real node
 * for its @real scenarios runs the others as before. Real workloads tolerate it and select
 * NODE_TYPE_LABEL=real.
 */
export const REAL_NODE_TAINT = { key: NODE_TYPE_LABEL, value: 'real', effect: 'NoSchedule' } as const;

export const DEFAULT_ALLOCATABLE: Record<string, string> = { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' };

/** n nodes named node-1…node-n, spread round-robin over the zones (if any). */
export function nodeSpecsFor(count: number, zones: string[] = []): NodeSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `node-${i + 1}`,
    ...(zones.length ? { zone: zones[i % zones.length] } : {}),
  }));
}

export function kwokNode(spec: NodeSpec): Manifest {
  const resources = { ...DEFAULT_ALLOCATABLE, ...spec.allocatable };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        // Where metrics-server finds this node's resource metrics on kwok's emulated kubelet.
        'metrics.k8s.io/resource-metrics-path': `/metrics/nodes/${spec.name}/metrics/resource`,
      },
      labels: {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        // The node-lifecycle controller would add these a moment later; set now, the node does not change under a run.
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64',
        type: 'kwok',
        [KWOK_NODE_LABEL]: 'fake',
        [NODE_TYPE_LABEL]: 'kwok',
        ...(spec.zone ? { [ZONE_LABEL]: spec.zone } : {}),
        ...spec.labels,
      },
    },
    spec: spec.taints?.length ? { taints: spec.taints } : {},
    status: {
      allocatable: resources,
      capacity: resources,
      nodeInfo: { architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'fake', kubeProxyVersion: 'fake' },
    },
  };
}

export function nodeReadyCondition(node: Node | undefined): string | undefined {
  return node?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}
