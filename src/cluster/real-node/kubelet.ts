/**
 * The real node's kubelet as a process that faults stop and start: stopping it is a node
 * failure as the control plane sees it (heartbeats and status updates stop; the containers
 * keep running under containerd), starting it again resumes them. The command line is written
 * next to the pid file when the node comes up, so any process — the run, `kubeproof clean`,
 * the next run — can start it again exactly as it was.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { EnvironmentError } from '../../errors.js';
import { daemonPid, startDaemon, stopDaemon, type DaemonStop } from './daemon.js';
import { realNodeLayout, type RealNodeLayout } from './layout.js';

export interface KubeletCommand {
  command: string;
  args: string[];
}

/** Start the kubelet and write down how, for a later restart. */
export async function startKubelet(l: RealNodeLayout, cmd: KubeletCommand): Promise<number> {
  await writeFile(l.kubelet.command, `${JSON.stringify(cmd, null, 2)}\n`);
  const d = await startDaemon({ name: 'kubelet', command: cmd.command, args: cmd.args, pidDir: l.pids, logDir: l.logs });
  return d.pid;
}

/** The pid of the cluster's running kubelet, if it runs. */
export async function kubeletPid(cluster: string): Promise<number | undefined> {
  return daemonPid(realNodeLayout(cluster).pids, 'kubelet');
}

/** SIGTERM (SIGKILL after 10 s) through the pid file; resolves once the process is gone. */
export async function stopKubelet(cluster: string): Promise<DaemonStop> {
  return stopDaemon(realNodeLayout(cluster).pids, 'kubelet');
}

/** Start the cluster's kubelet again with the command it was started with; nothing if it runs. */
export async function restartKubelet(cluster: string): Promise<{ started: boolean; pid: number }> {
  const l = realNodeLayout(cluster);
  const running = await daemonPid(l.pids, 'kubelet');
  if (running) return { started: false, pid: running };
  const text = await readFile(l.kubelet.command, 'utf8').catch(() => undefined);
  if (!text) throw new EnvironmentError(`cannot start the kubelet of cluster "${cluster}" again: ${l.kubelet.command} is missing (was the cluster torn down?)`);
  const cmd = JSON.parse(text) as KubeletCommand;
  return { started: true, pid: await startKubelet(l, cmd) };
}

/** The process's state letter from /proc (R, S, T for stopped, Z…), undefined when it is gone. */
async function processState(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat?.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/**
 * SIGSTOP through the pid file (only the recorded process): the kubelet is frozen — no
 * heartbeat, no status, its connections to the API server open — while containers run on.
 */
export async function freezeKubelet(cluster: string): Promise<number> {
  const pid = await kubeletPid(cluster);
  if (!pid) throw new EnvironmentError(`the kubelet of cluster "${cluster}" is not running: nothing to freeze`);
  process.kill(pid, 'SIGSTOP');
  return pid;
}

/** SIGCONT to a frozen kubelet; one that is gone meanwhile is started again with its recorded command line. */
export async function thawKubelet(cluster: string): Promise<{ how: 'thawed' | 'running' | 'started'; pid: number }> {
  const pid = await kubeletPid(cluster);
  if (!pid) return { how: 'started', pid: (await restartKubelet(cluster)).pid };
  if ((await processState(pid)) !== 'T') return { how: 'running', pid };
  process.kill(pid, 'SIGCONT');
  return { how: 'thawed', pid };
}
