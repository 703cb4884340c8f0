/**
 * What a Service does with pods whose readiness broke, and what their controller does not do:
 * conditions over the EndpointSlice and Pod watches.
 */
import type { Timeline } from '../timeline/timeline.js';
import type { Condition } from '../wait/until.js';
import { serviceEndpoints } from '../probes/availability.js';
import { restartsOf, unreadyVictims, type ReadinessVictim } from '../faults/readiness.js';
import type { Scenario } from '../scenario/scenario.js';
import { BadInputError } from '../errors.js';

/**
 * Every named pod is (ready = true) or is not (ready = false) a ready endpoint of the Service.
 * A pod that is not ready stays listed with conditions.ready false; that is what is expected.
 */
export function endpointsReady(tl: Timeline, service: string, pods: string[], ready: boolean): Condition {
  return {
    description: `pod(s) ${pods.join(', ')} ${ready ? 'are ready endpoints' : 'are no longer ready endpoints'} of service ${service}`,
    sources: [tl.endpointSlices, tl.informer('Service'), tl.pods],
    evaluate: () => {
      // "Not a ready endpoint" holds for any name at all: only for a Service and pods that exist (or did) does it say something.
      if (!tl.everSeen('Service', service)) return { ok: false, observed: `service ${service} does not exist` };
      const unknown = pods.filter((p) => !tl.everSeen('Pod', p));
      if (unknown.length) return { ok: false, observed: `pod(s) ${unknown.join(', ')} do not exist` };
      const outside = pods.filter((p) => !selectedBy(tl, service, p));
      if (outside.length) return { ok: false, observed: `pod(s) ${outside.join(', ')} not selected by service ${service}` };
      const eps = serviceEndpoints(tl, service);
      const seen = pods.map((p) => {
        const e = eps.get(p);
        return { pod: p, ready: e?.ready ?? false, word: e ? `ready:${e.ready}${e.terminating ? ' terminating' : ''}` : 'not listed' };
      });
      const ok = seen.every((x) => x.ready === ready);
      const others = [...eps].filter(([k]) => !pods.includes(k)).map(([k, e]) => `${k} ready:${e.ready}`);
      return { ok, observed: `${seen.map((x) => `${x.pod} ${x.word}`).join(', ')}; others: ${others.join(', ') || 'none'}` };
    },
  };
}

/** Whether the Service's selector matches the pod's labels (as it has them, or last had them); a Service without a selector selects what its EndpointSlices say. */
function selectedBy(tl: Timeline, service: string, pod: string): boolean {
  const svc = tl.informer('Service').get(service, tl.namespace) as { spec?: { selector?: Record<string, string> } } | undefined;
  const selector = svc?.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return true;
  const labels = tl.pods.get(pod, tl.namespace)?.metadata?.labels ?? tl.watchEntries('Pod').findLast((e) => e.name === pod)?.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Each victim is the same pod (same UID) as when its readiness broke, not terminating, with no more restarts. */
export function notRestartedNorReplaced(tl: Timeline, victims: Array<Pick<ReadinessVictim, 'name' | 'uid' | 'restarts'>>): Condition {
  return {
    description: `pod(s) ${victims.map((v) => v.name).join(', ')} neither restarted nor replaced`,
    sources: [tl.pods],
    evaluate: () => {
      const problems: string[] = [];
      for (const v of victims) {
        const p = tl.pods.get(v.name, tl.namespace);
        if (!p) problems.push(`${v.name} gone`);
        else if (p.metadata?.uid !== v.uid) problems.push(`${v.name} replaced (uid ${p.metadata?.uid}, was ${v.uid})`);
        else if (p.metadata?.deletionTimestamp) problems.push(`${v.name} terminating`);
        else if (restartsOf(p) !== v.restarts) problems.push(`${v.name} restarted (${restartsOf(p)} restarts, was ${v.restarts})`);
      }
      return { ok: problems.length === 0, observed: problems.join('; ') || `same pods, restarts unchanged (${victims.map((v) => `${v.name}: ${v.restarts}`).join(', ')})` };
    },
  };
}

/**
 * A pod as "neither restarted nor replaced" compares it: as it was when this scenario broke
 * its readiness, or else as it is now. A pod that does not exist fails.
 */
export function podIdentity(s: Scenario, name: string): Pick<ReadinessVictim, 'name' | 'uid' | 'restarts'> {
  try {
    return unreadyVictims(s, { pods: [name] })[0]!;
  } catch (err) {
    if (!(err instanceof BadInputError)) throw err;
  }
  const p = s.timeline.pods.get(name, s.namespace);
  if (!p || p.metadata?.deletionTimestamp) throw new Error(`pod ${name} ${p ? 'is terminating' : 'does not exist'} in namespace ${s.namespace}`);
  return { name, uid: p.metadata?.uid ?? '', restarts: restartsOf(p) };
}
