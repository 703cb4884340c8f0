/**
 * Kubernetes object types used across kubeproof. Re-exported from the client library here
 * so no other folder imports it.
 */
export type {
  V1Pod as Pod,
  V1Node as Node,
  V1Taint as Taint,
  V1Deployment as Deployment,
  V1ReplicaSet as ReplicaSet,
  V1StatefulSet as StatefulSet,
  V1DaemonSet as DaemonSet,
  V1Job as Job,
  V1Service as Service,
  V1PodDisruptionBudget as PodDisruptionBudget,
  V2HorizontalPodAutoscaler as HorizontalPodAutoscaler,
  V1EndpointSlice as EndpointSlice,
  CoreV1Event as Event,
  V1Namespace as Namespace,
  V1ConfigMap as ConfigMap,
  V1Lease as Lease,
  V1ObjectMeta as ObjectMeta,
  V1Condition as Condition,
} from '@kubernetes/client-node';

export interface ObjectMetaLike {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: { [key: string]: string };
  annotations?: { [key: string]: string };
  creationTimestamp?: Date | string;
  deletionTimestamp?: Date | string;
  ownerReferences?: Array<{ apiVersion?: string; kind: string; name: string; uid: string; controller?: boolean }>;
}

/** Any Kubernetes object, as far as kubeproof's generic code needs to know it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMetaLike;
}

/** An object with its body (spec, status, data…), e.g. a parsed manifest. */
export type Manifest = KubeObject & { [key: string]: unknown };

export interface KubeList<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** "namespace/name" or "name" for cluster-scoped objects. */
export function keyOf(obj: KubeObject): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : String(m.name);
}
