/**
 * A kind node frozen: every process on it stops where it is (kubelet, containerd, the pods'
 * containers), its connections stay open, nothing reports for it; thawed, the same processes
 * carry on. `docker pause` does that with the cgroup freezer. Where the engine cannot freeze
 * (a sandbox whose freezer never reaches FROZEN: runc says "unable to freeze"), the same stop
 * is made by signal: SIGSTOP to every process in the node's container but its init (`kill -1`
 * from inside the container reaches exactly the processes of its PID namespace, the nested
 * pod containers included, so nothing outside the node is signalled). The report names which.
 *
 * The undo, recorded before either acts, thaws both ways: `docker unpause` (a no-op unless it
 * was paused), then SIGCONT to the same processes. It is a plain command, so `kubeproof clean`
 * in a fresh process runs it as it stands in the ledger.
 */
import { EnvironmentError } from '../../errors.js';
import type { NodeStopMechanism } from './provider.js';

/** $1 docker, $2 the node's container. */
const THAW_SH = `"$1" unpause "$2" >/dev/null 2>&1; exec "$1" exec "$2" sh -c 'kill -s CONT -- -1'`;

/** Runs docker with these arguments (kind.ts's runTool: a missing binary is a clear error). */
export type DockerRun = (args: string[]) => Promise<{ exitCode: number; output: string }>;

export function kindFreeze(node: string, container: string, bin: string, docker: DockerRun): NodeStopMechanism {
  return {
    phase: 'node frozen',
    how: 'freeze it (docker pause; where the engine cannot freeze, SIGSTOP to every process in the node but its init)',
    silent: true,
    undo: { op: 'run', command: ['sh', '-c', THAW_SH, 'kubeproof-thaw', bin, container], env: { KUBEPROOF_NODE: node }, alreadyIf: 'is not running|No such container' },
    async stop(kube, annotations) {
      await kube.mergePatch('Node', node, undefined, { metadata: { annotations } });
      const paused = await docker(['pause', container]);
      if (paused.exitCode === 0) return `frozen with: docker pause ${container} (the cgroup freezer: every process on the node)`;
      if (!/freez/i.test(paused.output)) throw new EnvironmentError(`freezing node ${node} failed: docker pause ${container}: ${paused.output.split('\n').slice(-3).join(' | ')}`);
      // A freeze that never reached FROZEN may leave the cgroup FREEZING: unpause it before the signals.
      await docker(['unpause', container]);
      const stopped = await docker(['exec', container, 'sh', '-c', 'kill -s STOP -- -1']);
      if (stopped.exitCode !== 0) throw new EnvironmentError(`freezing node ${node} failed: docker exec ${container} kill -s STOP -- -1: ${stopped.output.split('\n').slice(-3).join(' | ')}`);
      return `frozen with: SIGSTOP to every process in ${container} but its init (docker exec … kill -s STOP -- -1), because docker pause failed here: ${paused.output.split('\n').at(-1)}`;
    },
  };
}
