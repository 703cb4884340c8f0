/** KWOK nodes made through the API: by the local cluster's `up`, and by a scenario that adds nodes for itself. */
import { formatDuration, type Log } from '../../log.js';
import type { Kube } from '../../kube/client.js';
import { Informer, now } from '../../kube/informer.js';
import type { Node } from '../../kube/types.js';
import { until } from '../../wait/until.js';
import { kwokNode, nodeReadyCondition } from '../nodes.js';
import type { NodeSpec } from './provider.js';

/** Create KWOK nodes through the API and resolve when all of them are Ready (watched, not polled). */
export async function createNodes(kube: Kube, specs: NodeSpec[], log: Log, withinMs = 60_000): Promise<void> {
  if (specs.length === 0) return;
  const names = new Set(specs.map((s) => s.name));
  const nodes = new Informer<Node>(kube, 'Node');
  try {
    await nodes.start();
    const t0 = now();
    await Promise.all(specs.map((s) => kube.create(kwokNode(s))));
    const ready = await until(
      {
        description: `${names.size} node(s) Ready: ${[...names].join(', ')}`,
        sources: [nodes],
        evaluate: () => {
          // Ready, and the node-lifecycle controller has lifted its node.kubernetes.io/not-ready taint (a run snapshots the nodes next).
          const notReady = [...names].filter((n) => nodeReadyCondition(nodes.get(n)) !== 'True' || nodes.get(n)?.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/')));
          return { ok: notReady.length === 0, observed: notReady.length ? `not Ready yet: ${notReady.join(', ')}` : 'all Ready' };
        },
      },
      { within: withinMs, since: t0 },
    );
    log(`${names.size} node(s) Ready in ${formatDuration(ready.elapsedMs)}`);
  } finally {
    await nodes.stop();
  }
}
