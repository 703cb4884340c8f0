/**
 * Parameter types: durations, amounts, kinds and lists as people write them. Each regexp
 * is strict, so a wrong argument ("within soon") leaves the step undefined and the run
 * stops before it starts, naming the step's file:line (exit 2).
 */
import { defineParameterType } from '@cucumber/cucumber';
import { parseDuration } from '../src/duration.js';
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

defineParameterType({
  name: 'percent',
  regexp: /\d+(?:\.\d+)?\s?%/,
  transformer: (text: string) => Number(text.replace('%', '').trim()),
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
    if (pct) return { percent: Number(pct[1]) };
    return { count: Number(text.split(' ')[0]) };
  },
});

defineParameterType({
  name: 'podState',
  regexp: /Ready|NotReady|Running|Pending/,
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
