/** What the kubelet did with killed containers: restarted in place, and with what back-off (faults/container-kill.ts). */
import type { Scenario } from '../scenario/scenario.js';
import { BadInputError } from '../errors.js';
import { formatDuration } from '../log.js';
import { CONTAINER_KILLS, restartFigures, restartedCondition } from '../faults/container-kill.js';
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

/** The last restart waited at least `minMs` after its kill, with the container in CrashLoopBackOff meanwhile. */
export function expectBackOff(s: Scenario, minMs: number): void {
  for (const k of kills(s)) {
    const f = restartFigures(s, k);
    const last = f.delaysMs.at(-1);
    const words = `restart delays ${f.delaysMs.map((d) => formatDuration(d)).join(', ') || 'none seen'}; waiting reasons seen: ${f.waitingReasons.join(', ') || 'none'}`;
    if (k.kills.length < 2) throw new BadInputError(`container ${k.container} of pod ${k.pod} was killed once; back-off needs a second death soon after the first restart`);
    if (last === undefined || f.delaysMs.length < k.kills.length) throw new Error(`container ${k.container} of pod ${k.pod} has not restarted after its last kill (${words})`);
    if (last < minMs || !f.waitingReasons.includes('CrashLoopBackOff')) {
      throw new Error(`container ${k.container} of pod ${k.pod}: expected the last restart after ≥ ${formatDuration(minMs)} in CrashLoopBackOff; ${words}`);
    }
  }
}
