/**
 * A node heartbeating again after its failure was undone: its Lease (kube-node-lease) renewed
 * since the value recorded when the fault was written. Undoing a node stop within its grace
 * period leaves it Ready all along, so Ready alone would call it back while its container or
 * kubelet is still starting; a renewal is the kubelet (or kwok) itself saying it is back.
 */
import type { Kube } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import type { KubeObject } from '../kube/types.js';
import { until } from '../wait/until.js';

type Lease = KubeObject & { spec?: { renewTime?: string } };
export const NODE_LEASES = 'kube-node-lease';
/** How long an undo waits for the node's next heartbeat (a node container or kubelet starting takes seconds). */
export const HEARTBEAT_WAIT = { ms: 60_000 };

/** The node's heartbeat now (its Lease's renewTime), or undefined where it has no Lease. */
export async function heartbeatOf(kube: Kube, node: string): Promise<string | undefined> {
  return (await kube.find<Lease>('Lease', node, NODE_LEASES))?.spec?.renewTime;
}

/** Resolves once the node's Lease has a renewTime other than `since` (watched); throws ConditionTimeout after `withinMs`. */
export async function heartbeatRenewed(kube: Kube, node: string, since: string, withinMs = HEARTBEAT_WAIT.ms): Promise<void> {
  const lease = new Informer<Lease>(kube, 'Lease', { namespace: NODE_LEASES, fieldSelector: `metadata.name=${node}` });
  try {
    await lease.start();
    await until(
      {
        description: `node ${node} heartbeating again (its Lease renewed since ${since})`,
        sources: [lease],
        evaluate: () => {
          const now = lease.get(node, NODE_LEASES)?.spec?.renewTime;
          return { ok: now !== undefined && now !== since, observed: now ? `renewTime ${now}` : 'no Lease' };
        },
      },
      { within: withinMs },
    );
  } finally {
    await lease.stop();
  }
}
