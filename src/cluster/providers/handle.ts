/**
 * A cluster's parts, rebuilt in any process (a cucumber worker, `kubeproof clean`) from the
 * plain description the run hands around. The one place outside a provider that knows which
 * provider made a cluster; loading it also registers the providers' undo ops.
 */
import type { ClusterKind, ClusterParts, NodeCommandLines } from './provider.js';
import { localParts } from './local-parts.js';
import { kindParts } from './kind.js';
import { existingParts } from './existing.js';

export interface ClusterDescription {
  kind: ClusterKind;
  name: string;
  context: string;
  nodes: string[];
  capabilities: { realNodes: string[] };
  nodeCommands?: NodeCommandLines;
}

export function partsOf(c: ClusterDescription): ClusterParts {
  switch (c.kind) {
    case 'local':
      return localParts({ name: c.name, realNodes: c.capabilities.realNodes });
    case 'kind':
      return kindParts({ name: c.name, nodes: c.nodes });
    case 'existing':
      return existingParts({ context: c.context, ...(c.nodeCommands ? { nodeCommands: c.nodeCommands } : {}) });
  }
}
