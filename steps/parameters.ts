/**
 * Parameter types: durations, amounts, kinds and lists as people write them. Each regexp
 * is strict, so a wrong argument ("within soon") leaves the step undefined and the run
 * stops before it starts, naming the step's file:line (exit 2).
 */
import { defineParameterType } from '@cucumber/cucumber';
import { parseDuration } from '../src/duration.js';
import { BadInputError } from '../src/errors.js';
import { parseAmount } from '../src/expect/amount.js';
import { workloadKind } from '../src/workload/pods.js';
import type { HowMany } from '../src/faults/pod-kill.js';

defineParameterType({
  name: 'duration',
  regexp: /\d+(?:\.\d+)?\s?(?:ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)/,
  transformer: (text: string) => parseDuration(text),
});

defineParameterType({
  name: 'amount',
  regexp: /(?:(?:exactly|at least|at most|more than|fewer than) )?\d+|no/,
  transformer: (text: string) => parseAmount(text),
});

/** A percentage from 0 to 100: "150%" of anything is a check that cannot pass, or a kill that cannot happen. */
function percentOf(text: string): number {
  const p = Number(text.replace(/%.*$/, '').trim());
  if (!(p >= 0 && p <= 100)) throw new BadInputError(`"${text}" is not a percentage from 0 to 100`);
  return p;
}

defineParameterType({
  name: 'percent',
  regexp: /\d+(?:\.\d+)?\s?%/,
  transformer: (text: string) => percentOf(text),
});

defineParameterType({
  name: 'workload',
  regexp: /deployment|statefulset|daemonset|replicaset|job/,
  transformer: (text: string) => workloadKind(text),
});

defineParameterType({
  name: 'kind',
  regexp: /deployment|statefulset|daemonset|replicaset|job|service|configmap|poddisruptionbudget|pdb|horizontalpodautoscaler|hpa|resourcequota|node|pod/,
  transformer: (text: string) => text,
});

defineParameterType({
  name: 'howMany',
  regexp: /\d+ pods?|\d+(?:\.\d+)?% of the pods|all pods/,
  transformer: (text: string): HowMany => {
    if (text === 'all pods') return { percent: 100 };
    const pct = text.match(/^(\d+(?:\.\d+)?)% of the pods$/);
    if (pct) {
      const percent = percentOf(`${pct[1]}%`);
      if (percent === 0) throw new BadInputError(`"${text}" is no pod at all`);
      return { percent };
    }
    const count = Number(text.split(' ')[0]);
    if (!Number.isSafeInteger(count) || count < 1) throw new BadInputError(`"${text}": the number of pods must be a whole number from 1`);
    return { count };
  },
});

defineParameterType({
  name: 'podState',
  // Succeeded and Failed: the phases a pod ends in (a Job's, or any pod with restartPolicy Never/OnFailure whose container exits).
  regexp: /Ready|NotReady|Running|Pending|Succeeded|Failed/,
  transformer: (text: string) => text,
});

defineParameterType({
  name: 'names',
  regexp: /[a-z0-9][-a-z0-9.]*(?:(?:, | and )[a-z0-9][-a-z0-9.]*)*/,
  transformer: (text: string) => text.split(/, | and /),
});

defineParameterType({
  name: 'nodeCondition',
  regexp: /Ready|NotReady|Unknown/,
  transformer: (text: string) => (text === 'NotReady' ? 'NotTrue' : text === 'Ready' ? 'True' : 'Unknown'),
});
