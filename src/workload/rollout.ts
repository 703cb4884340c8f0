/**
 * A rollout of a version whose pods run but never pass readiness: the Deployment's pod template
 * changes, so the Deployment controller starts a new ReplicaSet, whose pods stay unready.
 *
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
import { NotApplicable } from '../not-applicable.js';
import type { Deployment } from '../kube/types.js';
import { TESTAPP_IMAGE } from '../cluster/build/image-refs.js';
import { UNREADY_LABEL } from '../faults/readiness.js';
import { seen } from './change.js';

export const READY_AT_START_ENV = 'READY_AT_START';

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

/** JSON-patch path segment: "/" and "~" escaped. */
const seg = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The JSON patch that makes a Deployment's next version never Ready, and how: throws
 * NotApplicable when neither mechanism reaches its pods (real containers, not the test app).
 */
export function neverReadyPatch(d: Deployment, kwok: boolean): { ops: object[]; mechanisms: string[] } {
  const name = d.metadata?.name;
  const tpl = d.spec?.template;
  if (tpl?.metadata?.labels?.[UNREADY_LABEL] === 'true') throw new BadInputError(`deployment ${name} already rolls out a version that never becomes ready (its template has ${UNREADY_LABEL}=true)`);
  const containers = tpl?.spec?.containers ?? [];
  const app = containers.map((c, i) => ({ c, i })).filter(({ c }) => c.image === TESTAPP_IMAGE.ref);
  if (!kwok && app.length === 0) {
    throw new NotApplicable(`deployment ${name} runs real containers (${containers.map((c) => c.image).join(', ')}) whose readiness kubeproof cannot switch: only its test app (${TESTAPP_IMAGE.ref}) starts unready on request (scenarios/README.md)`);
  }
  const ops: object[] = [];
  const mechanisms: string[] = [];
  if (kwok) {
    if (tpl?.metadata?.labels) ops.push({ op: 'add', path: `/spec/template/metadata/labels/${seg(UNREADY_LABEL)}`, value: 'true' });
    else ops.push({ op: 'add', path: '/spec/template/metadata/labels', value: { [UNREADY_LABEL]: 'true' } });
    mechanisms.push(`KWOK pods: template label ${UNREADY_LABEL}=true`);
  }
  for (const { c, i } of app) {
    const env = c.env ?? [];
    const at = env.findIndex((e) => e.name === READY_AT_START_ENV);
    if (at >= 0) ops.push({ op: 'replace', path: `/spec/template/spec/containers/${i}/env/${at}`, value: { name: READY_AT_START_ENV, value: 'false' } });
    else if (c.env) ops.push({ op: 'add', path: `/spec/template/spec/containers/${i}/env/-`, value: { name: READY_AT_START_ENV, value: 'false' } });
    else ops.push({ op: 'add', path: `/spec/template/spec/containers/${i}/env`, value: [{ name: READY_AT_START_ENV, value: 'false' }] });
  }
  if (app.length) mechanisms.push(`test app container(s) ${app.map(({ c }) => c.name).join(', ')}: ${READY_AT_START_ENV}=false`);
  return { ops, mechanisms };
}

export async function rollOutNeverReady(s: Scenario, name: string): Promise<UnreadyRollout> {
  const d = await s.kube.find<Deployment>('Deployment', name, s.namespace);
  if (!d) throw new BadInputError(`deployment ${name} does not exist in namespace ${s.namespace}`);
  const { ops, mechanisms } = neverReadyPatch(d, s.cluster.capabilities.readinessMechanism === 'kwok-stage');
  const mark = s.timeline.mark('patch', `deployment/${name}: roll out a version that never becomes ready (${mechanisms.join('; ')})`);
  const written = await s.kube.jsonPatch<Deployment>('Deployment', name, s.namespace, ops);
  await seen(s, written);
  const rollout: UnreadyRollout = { deployment: name, at: mark.at, generation: written.metadata?.generation ?? 0, mechanisms };
  s.state(UNREADY_ROLLOUTS).set(name, rollout);
  return rollout;
}
