/** {pod}: one pod as a step names it — `pod "db-1"`, `the oldest pod of deployment "web"`, `the newest pod of …`. */
import { defineParameterType } from '@cucumber/cucumber';
import { workloadKind } from '../src/workload/pods.js';
import type { PodDesignator } from '../src/workload/pod-designator.js';

defineParameterType({
  name: 'pod',
  regexp: /pod "([^"]*)"|the (oldest|newest) pod of (deployment|statefulset|daemonset|replicaset|job) "([^"]*)"/,
  transformer: (name: string | undefined, place: string | undefined, kind: string | undefined, workload: string | undefined): PodDesignator =>
    name !== undefined ? { name } : { place: place as 'oldest' | 'newest', workload: { kind: workloadKind(kind!), name: workload! } },
});
