/**
 * What steps establish for the later steps of their scenario, and what the steps that build
 * on them need: checked when the steps are matched (src/run/preconditions.ts), so "the drain
 * of node node-1 completed" without a drain of node-1 is refused before the run, not minutes in.
 */
import type { Fact, Need } from '../src/run/preconditions.js';
import type { WorkloadKind } from '../src/workload/pods.js';
import { desiredPods } from '../src/timeline/queries.js';

const w = (kind: WorkloadKind, name: string) => `${kind.toLowerCase()} "${name}"`;

export const fact = {
  readinessBroken: (kind: WorkloadKind, name: string): Fact => `readiness broken of ${kind} ${name}`,
  anyReadinessBroken: 'readiness broken' as Fact,
  drained: (node: string): Fact => `drained node ${node}`,
  /** A zone's nodes are known only on the cluster: a zone drain may have drained any node. */
  zoneDrained: 'drained a zone' as Fact,
  tainted: 'tainted' as Fact,
  down: (node: string): Fact => `down node ${node}`,
  containerKilled: 'container killed' as Fact,
  trials: 'trials' as Fact,
  measured: (service: string): Fact => `availability measured of service ${service}`,
  loaded: (kind: WorkloadKind, name: string): Fact => `load on ${kind} ${name}`,
  podKilled: (name: string): Fact => `killed pod ${name}`,
  /** Every When step changes something (a fault, a kill, a scale, an image change, a patch, a load), and "from now on" opens a window: what an "at no moment" claim looks from (steps/vocabulary.ts gives it). */
  changed: 'changed something' as Fact,
  /** A "within D …" step ran (steps/vocabulary.ts gives it): "it happened no sooner than …" bounds it. */
  metWithin: 'a timed expectation' as Fact,
  loadRemoved: 'load removed' as Fact,
};

/** What takes a pod out of a Service's ready endpoints, so that it can return to them. */
const takesOut = (pod: string) => (f: Fact) => f === fact.anyReadinessBroken || f === fact.tainted || f === fact.zoneDrained || f === fact.containerKilled || f === fact.podKilled(pod) || f.startsWith('drained node ') || f.startsWith('down node ');

export const need = {
  readinessBroken: (kind: WorkloadKind, name: string): Need => ({ anyOf: [fact.readinessBroken(kind, name)], what: `a readiness break of ${w(kind, name)}`, example: `When 1 pod of ${w(kind, name)} fails readiness` }),
  anyReadinessBroken: (): Need => ({ anyOf: [fact.anyReadinessBroken], what: 'a readiness break', example: 'When 1 pod of deployment "web" fails readiness' }),
  drained: (node: string): Need => ({ anyOf: [fact.drained(node), fact.zoneDrained], what: `a drain of node "${node}"`, example: `When node "${node}" is drained` }),
  tainted: (): Need => ({ anyOf: [fact.tainted], what: 'a taint', example: 'When node "node-1" is tainted "dedicated=db:NoExecute"' }),
  down: (node: string): Need => ({ anyOf: [fact.down(node)], what: `node "${node}" taken down`, example: `When node "${node}" stops sending heartbeats` }),
  containerKilled: (): Need => ({ anyOf: [fact.containerKilled], what: 'a container kill', example: 'When the container of 1 pod of deployment "app" is killed' }),
  trials: (): Need => ({ anyOf: [fact.trials], what: 'repeated trials', example: 'When 1 pod of deployment "web" is killed 5 times, each time waiting up to 30 s for 3 ready replicas' }),
  measured: (service: string): Need => ({ anyOf: [fact.measured(service)], what: `availability of service "${service}" measured`, example: `Given availability of service "${service}" is measured` }),
  loaded: (kind: WorkloadKind, name: string): Need => ({ anyOf: [fact.loaded(kind, name)], what: `a load offered to ${w(kind, name)}`, example: `When a load of 0.4 CPU cores is offered to ${w(kind, name)}` }),
  /** What opens the window of an "at no moment …" claim (src/expect/window.ts). */
  windowOpen: (): Need => ({ anyOf: [fact.changed], what: 'a fault or change to look from (a kill, drain, taint, node failure, scale, image change, patch) or a "from now on, …" step', example: 'When 1 pod of deployment "web" is killed' }),
  /** "At no moment were more than N pods … unavailable": a window, and a kind for which "unavailable" means something. */
  unavailableInWindow: (kind: WorkloadKind): Need[] => [need.windowOpen(), ...[need.unavailableMeansSomething(kind)].filter((n): n is Need => n !== undefined)],
  /** "It happened no sooner than D after the fault": a "within" step to bound, and a fault it was measured from. */
  metWithinAfterChange: (): Need[] => [
    { anyOf: [fact.changed], what: 'a fault or change to measure from', example: 'When node "node-2" stops sending heartbeats' },
    { anyOf: [fact.metWithin], what: 'a "within …" expectation to bound from below', example: 'Then within 60 s the pods of node "node-2" are replaced on other nodes' },
  ],
  loadRemoved: (): Need => ({ anyOf: [fact.loadRemoved], what: 'a load removed (the scale-down window runs from the removal)', example: 'When the load on deployment "shop" is removed' }),
  /** "returns to the ready endpoints" of a pod nothing took out reads wrong: a note (not a problem) with the sentence for a pod that was never there. */
  tookOut: (pod: string, service: string): Need => ({
    note: `nothing earlier in its scenario takes pod "${pod}" out of the endpoints (a readiness break, a kill of it, a drain, a taint, a node down); for a pod that was never a ready endpoint say "within … pod "${pod}" becomes a ready endpoint of service "${service}""`,
    unless: (facts) => [...facts].some(takesOut(pod)),
  }),
  /** "Unavailable" has a meaning for this kind (a Job's pods are meant to finish). */
  unavailableMeansSomething: (kind: WorkloadKind): Need | undefined => {
    try {
      desiredPods(kind, { type: 'modified' });
      return undefined;
    } catch (err) {
      return { refuse: (err as Error).message };
    }
  },
};
