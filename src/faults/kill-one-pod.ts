/** Kill one pod, named or by its place in a workload ("the oldest pod of deployment web"): a pod kill of one victim. */
import type { Scenario } from '../scenario/scenario.js';
import { injectFault } from './fault.js';
import { killPodsWith } from './pod-kill.js';
import { describePod, renamePod, type PodDesignator } from '../workload/pod-designator.js';

export async function killOnePod(s: Scenario, d: PodDesignator, gracePeriodSeconds?: number): Promise<void> {
  // Named now, so "… is replaced" and "… comes back with the same name" compare with the pod as it was killed.
  const victim = renamePod(s, d);
  const target = victim.workload ? { workload: victim.workload } : { selector: `kubernetes.io/metadata.name=${victim.name}` };
  await injectFault(
    s,
    { victims: [victim.name], seed: 0, of: 1, ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}) },
    () => `kill ${describePod(d)}: ${victim.name} (uid ${victim.uid})${victim.workload ? '; its controller is expected to replace it' : '; it has no controller: nothing replaces it'}`,
    (plan, inject) => killPodsWith(s, target, plan, inject),
  );
}
