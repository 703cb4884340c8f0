/** What a cluster tells a scenario that lacks a real node: the cause, and the fix for that cause. */

/**
 * Why a local run has no real node, with the fix for that cause: the packages this machine
 * lacks and the one command that installs them; another cluster holding the machine's one real
 * node; or a running cluster started without one.
 */
export function noRealNodeReason(cluster: string, host: { missing: Array<{ name: string; detail: string }>; install: string }, holder?: string): string {
  if (host.missing.length) {
    return `needs a real node (kubelet + containerd), and this machine lacks ${host.missing.map((m) => `${m.name} (${m.detail})`).join(', ')}; install: ${host.install} (kubeproof run then starts the real node by itself for @real scenarios)`;
  }
  if (holder) return `needs a real node, and cluster "${holder}" holds this machine's one real node: \`kubeproof cluster down --name ${holder}\` frees it`;
  return `needs a real node, and the local cluster "${cluster}" was started without one: \`kubeproof cluster up --name ${cluster} --real-nodes 1\` (kubeproof run starts one by itself for @real scenarios on a fresh cluster)`;
}
