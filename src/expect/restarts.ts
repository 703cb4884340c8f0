/** What the kubelet did with killed containers: restarted in place, and with what back-off (faults/container-kill.ts). */
import type { Scenario } from '../scenario/scenario.js';
import { BadInputError } from '../errors.js';
import { formatDuration } from '../log.js';
import { CONTAINER_KILLS, containerNow, restartFigures, restartedCondition } from '../faults/container-kill.js';
import { until, ConditionTimeout } from '../wait/until.js';
import { now } from '../kube/informer.js';
import { expectWithin } from './expect.js';

function kills(s: Scenario) {
  const kills = s.state(CONTAINER_KILLS);
  if (kills.length === 0) throw new BadInputError('no container was killed in this scenario');
  return kills;
}

/** Every killed container runs again in the same pod, its restartCount up by the number of kills. */
export async function expectRestartedInPlace(s: Scenario, withinMs: number): Promise<void> {
  for (const k of kills(s)) {
    await expectWithin(s, restartedCondition(s, k), withinMs);
    const f = restartFigures(s, k);
    s.timeline.measure({ name: `restart of container ${k.container} of pod ${k.pod} after kill ${k.kills.length} (kill → running)`, value: f.delaysMs.at(-1) ?? 0, unit: 'ms', detail: { perKill: f.delaysMs, waitingReasons: f.waitingReasons } });
  }
}

/**
 * The kubelet held each killed container in CrashLoopBackOff for at least `minMs` after its
 * last kill. Waits (on pod watch events) up to `minMs` after that kill for the container to
 * run again, then judges: a restart sooner than `minMs`, or without CrashLoopBackOff, fails;
 * a container still waiting in CrashLoopBackOff `minMs` after the kill was held that long.
 */
export async function expectBackOff(s: Scenario, minMs: number): Promise<void> {
  for (const k of kills(s)) {
    if (k.kills.length < 2) throw new BadInputError(`container ${k.container} of pod ${k.pod} was killed once; back-off needs a second death soon after the first restart`);
    const lastKill = k.kills.at(-1)!;
    const restarted = () => restartFigures(s, k).delaysMs.length >= k.kills.length;
    const words = () => {
      const f = restartFigures(s, k);
      return `restart delays ${f.delaysMs.map((d) => formatDuration(d)).join(', ') || 'none seen'}; waiting reasons seen: ${f.waitingReasons.join(', ') || 'none'}`;
    };
    try {
      await until(
        {
          description: `container ${k.container} of pod ${k.pod} running again after its last kill`,
          sources: [s.timeline.pods],
          evaluate: () => ({ ok: restarted() || containerNow(s, k).replaced, observed: containerNow(s, k).words }),
        },
        { within: Math.max(0, lastKill + minMs - now()) },
      );
    } catch (err) {
      if (!(err instanceof ConditionTimeout)) throw err;
    }
    const at = containerNow(s, k);
    if (at.replaced) throw new Error(`container ${k.container} of pod ${k.pod}: ${at.words} (${words()})`);
    if (restarted()) {
      const f = restartFigures(s, k);
      const last = f.delaysMs.at(-1)!;
      s.timeline.measure({ name: `back-off of container ${k.container} of pod ${k.pod} after kill ${k.kills.length} (kill → running)`, value: last, unit: 'ms' });
      if (last < minMs || !f.waitingReasons.includes('CrashLoopBackOff')) {
        throw new Error(`container ${k.container} of pod ${k.pod}: expected the last restart after ≥ ${formatDuration(minMs)} in CrashLoopBackOff; ${words()}`);
      }
      continue;
    }
    // Not running again `minMs` after the kill: held that long, if it is in CrashLoopBackOff.
    if (at.waiting !== 'CrashLoopBackOff') {
      throw new Error(`container ${k.container} of pod ${k.pod}: ${formatDuration(minMs)} after its last kill it is not in CrashLoopBackOff (now: ${at.words}; ${words()})`);
    }
  }
}
