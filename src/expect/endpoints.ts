/**
 * What a Service does with pods whose readiness broke, and what their controller does not do:
 * conditions over the EndpointSlice and Pod watches.
 */
import type { Timeline } from '../timeline/timeline.js';
import type { Condition } from './until.js';
import { serviceEndpoints } from '../probes/availability.js';
import { restartsOf, type ReadinessVictim } from '../faults/readiness.js';

/**
 * Every named pod is (ready = true) or is not (ready = false) a ready endpoint of the Service.
 * A pod that is not ready stays listed with conditions.ready false; that is what is expected.
 */
export function endpointsReady(tl: Timeline, service: string, pods: string[], ready: boolean): Condition {
  return {
    description: `pod(s) ${pods.join(', ')} ${ready ? 'are ready endpoints' : 'are no longer ready endpoints'} of service ${service}`,
    sources: [tl.endpointSlices],
    evaluate: () => {
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

/** Each victim is the same pod (same UID) as when its readiness broke, not terminating, with no more restarts. */
export function notRestartedNorReplaced(tl: Timeline, victims: ReadinessVictim[]): Condition {
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
