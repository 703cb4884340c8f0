/**
 * Simulated CPU use of KWOK pods: kwok's usage-from-annotation ResourceUsage (loaded by the
 * local provider, src/cluster/providers/local.ts) reads each pod's annotation, and
 * metrics-server serves it as metrics.k8s.io. The local cluster's load part writes it.
 */
/** Read by kwok's usage-from-annotation ResourceUsage. */
export const USAGE_CPU_ANNOTATION = 'kwok.x-k8s.io/usage-cpu';
/** What kubeproof last wrote into USAGE_CPU_ANNOTATION on a pod: the undo leaves a pod alone if it now says something else. */
export const LOAD_WRITTEN_ANNOTATION = 'kubeproof.io/load-cpu';
