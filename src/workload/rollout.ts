/**
 * A rollout of a version whose pods run but never pass readiness: the Deployment's pod template
 * changes, so the Deployment controller starts a new ReplicaSet, whose pods stay unready.
 *
 * The cluster's readiness part (src/cluster/readiness.ts) says how:
 * - Simulated pods (KWOK): the template gets the label kubeproof.io/unready=true; the project's
 *   stage (scenarios/stages/pod-start-unready.yaml) starts such a pod Running but never Ready.
 * - Real containers running kubeproof's test app: the template's test-app containers get
 *   READY_AT_START=false, so the app starts without its ready file and the kubelet's own
 *   readiness probe fails (scenarios/README.md, the breakable-app contract).
 * Both go into the template when it has a test-app container (the label does nothing to a real
 * container). Without either mechanism the scenario is not applicable. Like any change of the
 * scenario's own objects it goes with its namespace: nothing to undo.
 */
import type { Scenario } from '../scenario/scenario.js';
import { Slot } from '../scenario/slot.js';
import { BadInputError } from '../errors.js';
import type { Deployment } from '../kube/types.js';
import { seen } from './change.js';

export { neverReadyPatch, READY_AT_START_ENV } from '../cluster/readiness.js';

export interface UnreadyRollout {
  deployment: string;
  at: number;
  /** The Deployment's generation the rollout wrote. */
  generation: number;
  /** How its pods fail readiness: the KWOK label, the test app's switch, or both. */
  mechanisms: string[];
}

/** Rollouts of never-ready versions in this scenario, by Deployment. */
export const UNREADY_ROLLOUTS = new Slot('unready rollouts', () => new Map<string, UnreadyRollout>());

export async function rollOutNeverReady(s: Scenario, name: string): Promise<UnreadyRollout> {
  const d = await s.kube.find<Deployment>('Deployment', name, s.namespace);
  if (!d) throw new BadInputError(`deployment ${name} does not exist in namespace ${s.namespace}`);
  const { ops, mechanisms } = s.parts.readiness.neverReady(d);
  const mark = s.timeline.mark('patch', `deployment/${name}: roll out a version that never becomes ready (${mechanisms.join('; ')})`);
  const written = await s.kube.jsonPatch<Deployment>('Deployment', name, s.namespace, ops);
  await seen(s, written);
  const rollout: UnreadyRollout = { deployment: name, at: mark.at, generation: written.metadata?.generation ?? 0, mechanisms };
  s.state(UNREADY_ROLLOUTS).set(name, rollout);
  return rollout;
}
