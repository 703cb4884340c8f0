/**
 * The ways a pod's readiness is broken while its containers keep running, for the providers'
 * readiness parts (ClusterParts.readiness):
 * - a simulated pod (KWOK): the label kubeproof.io/unready=true selects the project's stage
 *   (scenarios/stages/pod-readiness.yaml), which flips Ready; its undo removes exactly that label
 *   and leaves it alone if someone else changed it. A template with the label starts its pods
 *   Running but never Ready (scenarios/stages/pod-start-unready.yaml);
 * - a real container that runs kubeproof's test app: the app's readiness is switched off through
 *   the API's exec subresource (`/testapp ready off`), so the kubelet's own probe fails; its undo
 *   is `/testapp ready on`. A template's test-app containers with READY_AT_START=false start
 *   without the ready file (scenarios/README.md, the breakable-app contract).
 * A real container of any other image cannot be switched: that is a refusal, with the reason.
 */
import type { Kube } from '../kube/client.js';
import { isConflict } from '../kube/errors.js';
import type { Deployment, Pod } from '../kube/types.js';
import { BadInputError } from '../errors.js';
import { NotApplicable } from '../not-applicable.js';
import { TESTAPP_IMAGE } from './build/image-refs.js';
import type { ReadinessBreaker, Refusal } from './providers/provider.js';

export const UNREADY_LABEL = 'kubeproof.io/unready';
export const READY_AT_START_ENV = 'READY_AT_START';

/** How a real container's readiness is switched: the test app's own toggle, run through exec. */
export interface AppReadinessSwitch {
  container: string;
  off: string[];
  on: string[];
}

/** The test app's readiness switch in this pod, if one of its containers runs the test app. */
export function appReadinessSwitch(p: Pod): AppReadinessSwitch | undefined {
  const c = (p.spec?.containers ?? []).find((x) => x.image === TESTAPP_IMAGE.ref);
  return c ? { container: c.name, off: [TESTAPP_IMAGE.entrypoint, 'ready', 'off'], on: [TESTAPP_IMAGE.entrypoint, 'ready', 'on'] } : undefined;
}

/** A real container's readiness, switched off by the test app's toggle (or why not: not the test app). */
export function appSwitchBreaker(p: Pod): ReadinessBreaker | Refusal {
  const app = appReadinessSwitch(p);
  const name = p.metadata?.name ?? '?';
  if (!app) return { refused: `${name} on ${p.spec?.nodeName ?? '?'} runs real containers (${[...new Set((p.spec?.containers ?? []).map((c) => c.image))].join(', ')}), none of them kubeproof's test app` };
  return {
    how: `exec ${app.off.join(' ')} in container ${app.container}: its readiness probe fails`,
    undo: { op: 'exec', container: app.container, command: app.on },
    async break(kube, annotations) {
      const ns = p.metadata?.namespace ?? 'default';
      // The annotation first (it names the ledger record, for `kubeproof clean`), then the switch.
      await kube.mergePatch('Pod', name, ns, { metadata: { annotations } });
      const r = await kube.exec(ns, name, app.container, app.off);
      if (r.exitCode !== 0) throw new Error(`${app.off.join(' ')} in pod ${name} exited ${r.exitCode}: ${r.stderr.trim()}`);
    },
  };
}

/** A simulated pod's readiness, flipped by the KWOK stage that its label selects. */
export function stageLabelBreaker(p: Pod): ReadinessBreaker {
  const name = p.metadata?.name ?? '?';
  const present = p.metadata?.labels?.[UNREADY_LABEL] === 'true';
  return {
    how: `label ${UNREADY_LABEL}=true: the KWOK stage reports Ready=False${present ? ' (already there)' : ''}`,
    ...(present ? {} : { undo: { op: 'restore-label' as const, key: UNREADY_LABEL, before: p.metadata?.labels?.[UNREADY_LABEL] ?? null, after: 'true' } }),
    async break(kube, annotations) {
      if (!present) await labelUnready(kube, name, p.metadata?.namespace ?? 'default', annotations);
    },
  };
}

/** Set the label on one pod, written against the resourceVersion it was read at (KWOK may be writing status meanwhile). */
async function labelUnready(kube: Kube, name: string, namespace: string, annotations: Record<string, string>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const pod = await kube.get<Pod>('Pod', name, namespace);
    try {
      await kube.mergePatch('Pod', name, namespace, { metadata: { resourceVersion: pod.metadata?.resourceVersion, labels: { [UNREADY_LABEL]: 'true' }, annotations } });
      return;
    } catch (err) {
      if (!isConflict(err) || attempt >= 5) throw err;
    }
  }
}

/** JSON-patch path segment: "/" and "~" escaped. */
const seg = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The JSON patch that makes a Deployment's next version never Ready, and how (`stage`: the
 * cluster has simulated pods, whose KWOK stage follows the template label): throws
 * NotApplicable when neither mechanism reaches its pods (real containers, not the test app).
 */
export function neverReadyPatch(d: Deployment, stage: boolean): { ops: object[]; mechanisms: string[] } {
  const name = d.metadata?.name;
  const tpl = d.spec?.template;
  if (tpl?.metadata?.labels?.[UNREADY_LABEL] === 'true') throw new BadInputError(`deployment ${name} already rolls out a version that never becomes ready (its template has ${UNREADY_LABEL}=true)`);
  const containers = tpl?.spec?.containers ?? [];
  const app = containers.map((c, i) => ({ c, i })).filter(({ c }) => c.image === TESTAPP_IMAGE.ref);
  if (!stage && app.length === 0) {
    throw new NotApplicable(`deployment ${name} runs real containers (${containers.map((c) => c.image).join(', ')}) whose readiness kubeproof cannot switch: only its test app (${TESTAPP_IMAGE.ref}) starts unready on request (scenarios/README.md)`);
  }
  const ops: object[] = [];
  const mechanisms: string[] = [];
  if (stage) {
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
