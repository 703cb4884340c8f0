/**
 * The resources kubeproof reads and watches, with their REST paths. A fixed table keeps
 * watches free of discovery round-trips; `apply` handles any other kind through discovery.
 */
export interface ResourceType {
  kind: string;
  group: string; // '' for the core group
  version: string;
  plural: string;
  namespaced: boolean;
}

const table: ResourceType[] = [
  { kind: 'Pod', group: '', version: 'v1', plural: 'pods', namespaced: true },
  { kind: 'Node', group: '', version: 'v1', plural: 'nodes', namespaced: false },
  { kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  { kind: 'Event', group: '', version: 'v1', plural: 'events', namespaced: true },
  { kind: 'Service', group: '', version: 'v1', plural: 'services', namespaced: true },
  { kind: 'ConfigMap', group: '', version: 'v1', plural: 'configmaps', namespaced: true },
  { kind: 'ResourceQuota', group: '', version: 'v1', plural: 'resourcequotas', namespaced: true },
  { kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true },
  { kind: 'Deployment', group: 'apps', version: 'v1', plural: 'deployments', namespaced: true },
  { kind: 'ReplicaSet', group: 'apps', version: 'v1', plural: 'replicasets', namespaced: true },
  { kind: 'StatefulSet', group: 'apps', version: 'v1', plural: 'statefulsets', namespaced: true },
  { kind: 'DaemonSet', group: 'apps', version: 'v1', plural: 'daemonsets', namespaced: true },
  { kind: 'Job', group: 'batch', version: 'v1', plural: 'jobs', namespaced: true },
  { kind: 'PodDisruptionBudget', group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', namespaced: true },
  { kind: 'HorizontalPodAutoscaler', group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers', namespaced: true },
  { kind: 'Lease', group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespaced: true },
  { kind: 'APIService', group: 'apiregistration.k8s.io', version: 'v1', plural: 'apiservices', namespaced: false },
];

const byKind = new Map(table.map((r) => [r.kind.toLowerCase(), r]));
for (const r of table) byKind.set(r.plural, r);
byKind.set('pdb', byKind.get('poddisruptionbudget')!);
byKind.set('hpa', byKind.get('horizontalpodautoscaler')!);
byKind.set('deploy', byKind.get('deployment')!);

/** Look a kind up by name, plural or short name (case-insensitive). */
export function resourceType(kind: string): ResourceType | undefined {
  return byKind.get(kind.toLowerCase()) ?? byKind.get(kind.toLowerCase().replace(/s$/, ''));
}

export function knownKinds(): string[] {
  return table.map((r) => r.kind);
}

export function apiVersionOf(r: ResourceType): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** Collection path, e.g. /apis/apps/v1/namespaces/ns/deployments or /api/v1/nodes. */
export function collectionPath(r: ResourceType, namespace?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return r.namespaced && namespace ? `${base}/namespaces/${namespace}/${r.plural}` : `${base}/${r.plural}`;
}
