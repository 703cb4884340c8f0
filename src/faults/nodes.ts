/** Which nodes a fault targets: by name, by label selector, or by zone — read from the timeline's node cache. */
import type { Scenario } from '../scenario/scenario.js';
import { BadInputError } from '../errors.js';
import { ZONE_LABEL } from '../cluster/nodes.js';
import { matches, parseSelector } from '../workload/selector.js';

export type NodeTarget = { name: string } | { selector: string } | { zone: string };

export function describeNodes(t: NodeTarget): string {
  return 'name' in t ? `node ${t.name}` : 'zone' in t ? `the nodes in zone ${t.zone}` : `the nodes labelled ${t.selector}`;
}

export function resolveNodes(s: Scenario, t: NodeTarget): string[] {
  const all = s.timeline.nodes.list();
  const names =
    'name' in t
      ? all.filter((n) => n.metadata?.name === t.name)
      : 'zone' in t
        ? all.filter((n) => n.metadata?.labels?.[ZONE_LABEL] === t.zone)
        : all.filter((n) => matches(n.metadata?.labels, parseSelector(t.selector)));
  if (names.length === 0) throw new BadInputError(`no node matches: ${describeNodes(t)} (nodes: ${all.map((n) => n.metadata?.name).join(', ')})`);
  return names.map((n) => n.metadata!.name!).sort();
}
