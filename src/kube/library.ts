/**
 * Where src/kube/client.ts gets @kubernetes/client-node. It is the heaviest import of the
 * project (most of a second of CPU) and `kubeproof check` never talks to an API server: that
 * command says so before it imports anything that reaches client.ts, and then the library is
 * never loaded — whatever a step module does at load time, nothing in the process could make a
 * request. Every other command loads it, once, when client.ts is first imported.
 */
import type * as K8s from '@kubernetes/client-node';

let offlineFor: string | undefined;

/** From now on this process loads no Kubernetes client; `command` is named by what tries to use one. */
export function withoutKubernetesClient(command: string): void {
  offlineFor = command;
}

export async function kubernetesClient(): Promise<typeof K8s> {
  if (offlineFor === undefined) return import('@kubernetes/client-node');
  const command = offlineFor;
  return new Proxy({} as typeof K8s, {
    get(_, name) {
      // Not a thenable: an async function's result is probed for `then`.
      if (name === 'then') return undefined;
      throw new Error(`${command} loads no Kubernetes client, yet something asked for its ${String(name)}: nothing in ${command} may talk to an API server`);
    },
  });
}
