/**
 * Node control by command lines: a node stopped and started by running a program (kind:
 * `docker stop/start/pause/unpause`, `docker exec … systemctl stop kubelet`; existing clusters:
 * the commands configured in kubeproof.config.json). `{node}` in an argument, and
 * $KUBEPROOF_NODE in the command's environment, stand for the node's name. The start command
 * is the undo, recorded in the ledger before the stop runs, so any process can run it.
 */
import { execa } from 'execa';
import { EnvironmentError } from '../../errors.js';
import type { NodeStopMechanism } from './provider.js';

const NODE_NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface CommandPair {
  stop: string[];
  start: string[];
}

export function fillNode(argv: string[], node: string): string[] {
  return argv.map((a) => a.replaceAll('{node}', node));
}

/** A mechanism that stops `node` with `pair.stop` and records `pair.start` as its undo. */
export function commandStop(node: string, pair: CommandPair, what: { phase: string; how: string; silent: boolean }, opts: { alreadyIf?: string } = {}): NodeStopMechanism | { refused: string } {
  if (!NODE_NAME_RE.test(node)) return { refused: `"${node}" is not a node name kubeproof will put on a command line` };
  const [stop, start] = [fillNode(pair.stop, node), fillNode(pair.start, node)];
  const env = { KUBEPROOF_NODE: node };
  return {
    ...what,
    undo: { op: 'run', command: start, env, ...(opts.alreadyIf ? { alreadyIf: opts.alreadyIf } : {}) },
    async stop(kube, annotations) {
      await kube.mergePatch('Node', node, undefined, { metadata: { annotations } });
      const r = await execa(stop[0]!, stop.slice(1), { reject: false, all: true, timeout: 120_000, env });
      if (r.exitCode !== 0) throw new EnvironmentError(`stopping node ${node} failed: ${stop.join(' ')} exited ${r.exitCode ?? r.code}: ${String(r.all ?? '').trim().split('\n').slice(-5).join(' | ')}`);
      return `stopped with: ${stop.join(' ')}`;
    },
  };
}
