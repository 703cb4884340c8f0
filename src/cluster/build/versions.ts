/**
 * The one place where the versions of the local cluster's components are pinned.
 * Upgrading is a deliberate edit here (and a rebuild, which the new version set id triggers);
 * nothing resolves "latest" at run time.
 */

/** Kubernetes release the control-plane binaries and kubectl are built from. */
export const KUBERNETES_VERSION = '1.37.2';
/** etcd server release (go.etcd.io/etcd/server/v3). */
export const ETCD_VERSION = '3.6.16';
/** KWOK release (sigs.k8s.io/kwok: kwok controller and kwokctl). */
export const KWOK_VERSION = '0.8.0';
/** metrics-server release (sigs.k8s.io/metrics-server). */
export const METRICS_SERVER_VERSION = '0.9.0';

/** Oldest Go toolchain that builds all of the above (k8s.io/kubernetes v1.37 says `go 1.26.0`). */
export const MIN_GO_VERSION = '1.26.0';

/** The published module version of Kubernetes' staging repositories: 1.37.2 → v0.37.2. */
export function stagingVersion(kubernetesVersion: string = KUBERNETES_VERSION): string {
  const m = /^v?1\.(\d+)\.(\d+)$/.exec(kubernetesVersion);
  if (!m) throw new Error(`not a Kubernetes release version: "${kubernetesVersion}"`);
  return `v0.${m[1]}.${m[2]}`;
}

export const PINNED = {
  kubernetes: KUBERNETES_VERSION,
  etcd: ETCD_VERSION,
  kwok: KWOK_VERSION,
  metricsServer: METRICS_SERVER_VERSION,
} as const;

/**
 * Measured cold build time of each component on 2 cores (Go 1.26, CGO_ENABLED=0, -trimpath),
 * in the order binaries.ts builds them. The apiserver comes first and pays for most of the
 * packages the other Kubernetes binaries share, so its figure is far the largest.
 * Only used to tell a person roughly how long the build has left.
 */
export const COLD_BUILD_SECONDS = {
  'kube-apiserver': 360,
  'kube-controller-manager': 90,
  'kube-scheduler': 30,
  kubectl: 30,
  kubelet: 47,
  'kube-proxy': 30,
  etcd: 36,
  'kwok+kwokctl': 90,
  'metrics-server': 120,
} as const;

export type BuildComponentName = keyof typeof COLD_BUILD_SECONDS;

/** Sum of the above: about 13 minutes. */
export const COLD_BUILD_TOTAL_SECONDS: number = Object.values(COLD_BUILD_SECONDS).reduce((a, b) => a + b, 0);

/**
 * kind: the CLI and what its offline node image is built from (see build/kind-node-image.ts).
 * Not part of PINNED, so the local cluster's version set id is unchanged by them.
 */
export const KIND_PINNED = {
  /** sigs.k8s.io/kind: the CLI, and the images/base files of the node image. */
  kind: '0.33.0',
  /** sigs.k8s.io/cri-tools: crictl in the node. */
  crictl: '1.37.0',
  /** github.com/coredns/coredns: the tag kubeadm 1.37 deploys (its CoreDNSVersion). */
  coredns: '1.14.6',
  /** github.com/flannel-io/flannel: the CNI (host-gw), with Debian's bridge/host-local plugins. */
  flannel: '0.28.10',
  /** github.com/rancher/local-path-provisioner (v0.0.34 is refused by the Go module proxy). */
  localPathProvisioner: '0.0.30',
  /** The Debian suite of the node's root filesystem (containerd, runc, CNI plugins, systemd). */
  debian: 'bookworm',
} as const;
