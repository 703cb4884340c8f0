/**
 * Taints on nodes. NoExecute evicts running pods that do not tolerate it (after their
 * tolerationSeconds); NoSchedule only keeps new pods off. Revert removes exactly the taint
 * added — a taint that was already there is left alone and nothing is recorded for it.
 */
import { isConflict } from '../kube/errors.js';
import type { Scenario } from '../scenario/scenario.js';
import { BadInputError } from '../errors.js';
import type { Node, Taint } from '../kube/types.js';
import { describeTaint } from '../ledger/undo-ops.js';
import { injectFault, type Inject } from './fault.js';
import { resolveNodes, type NodeTarget } from './nodes.js';

export function parseTaint(text: string): Taint {
  const m = text.trim().match(/^([\w./-]+)(?:=([\w.-]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/);
  if (!m) throw new BadInputError(`"${text}" is not a taint (write key[=value]:NoSchedule|PreferNoSchedule|NoExecute)`);
  return { key: m[1]!, ...(m[2] ? { value: m[2] } : {}), effect: m[3]! };
}

export function planTaint(s: Scenario, target: NodeTarget, taint: Taint): string {
  const nodes = resolveNodes(s, target);
  const lines = [`taint ${nodes.join(', ')} with ${describeTaint(taint)}`];
  for (const name of nodes) {
    const pods = s.timeline.pods.list().filter((p) => p.spec?.nodeName === name && !p.metadata?.deletionTimestamp);
    for (const p of pods) {
      const tol = p.spec?.tolerations?.find((t) => (t.key === taint.key || (t.operator === 'Exists' && !t.key)) && (!t.effect || t.effect === taint.effect));
      const fate = taint.effect !== 'NoExecute' ? 'stays (not NoExecute)' : !tol ? 'evicted at once' : tol.tolerationSeconds !== undefined ? `evicted after ${tol.tolerationSeconds} s` : 'stays (tolerates forever)';
      lines.push(`  ${p.metadata?.name} on ${name}: ${fate}`);
    }
  }
  return lines.join('\n');
}

function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect && (a.value ?? '') === (b.value ?? '');
}

export async function taintNodes(s: Scenario, target: NodeTarget, taint: Taint, inject: Inject): Promise<string[]> {
  const nodes = resolveNodes(s, target);
  for (const name of nodes) {
    const node = await s.kube.get<Node>('Node', name);
    const taints = node.spec?.taints ?? [];
    const present = taints.some((t) => sameTaint(t, taint));
    await inject(
      { fault: 'taint node', target: { kind: 'Node', name }, undo: present ? undefined : { op: 'remove-taint', taint }, detail: `${describeTaint(taint)}${present ? ' (already there)' : ''}` },
      async ({ annotations }) => {
        if (present) return;
        // The taint list is replaced whole: the resourceVersion makes a concurrent change fail instead of
        // being lost. A real kubelet writes its node's status every few seconds: read again and retry.
        let current = node;
        for (let attempt = 1; ; attempt++) {
          const list = current.spec?.taints ?? [];
          if (list.some((t) => sameTaint(t, taint))) return;
          try {
            await s.kube.mergePatch('Node', name, undefined, { metadata: { resourceVersion: current.metadata?.resourceVersion, annotations }, spec: { taints: [...list, taint] } });
            return;
          } catch (err) {
            if (!isConflict(err) || attempt >= 10) throw err;
            current = await s.kube.get<Node>('Node', name);
          }
        }
      },
    );
  }
  return nodes;
}

/** Taint the target nodes (in plan mode: print which pods would go, change nothing). */
export async function taint(s: Scenario, target: NodeTarget, text: string): Promise<void> {
  const t = parseTaint(text);
  await injectFault(s, t, () => planTaint(s, target, t), (_, inject) => taintNodes(s, target, t, inject));
}
