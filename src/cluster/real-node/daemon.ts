/**
 * The real node's long-running processes (containerd, kubelet, kube-proxy): started detached
 * so they outlive `kubeproof cluster up`, each with a pid file and a log file, and stopped
 * later — by any process — through that pid file only. Nothing is ever ended by name.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError } from '../../errors.js';
import { processAlive, processStartTime } from '../../host.js';

export interface Daemon {
  name: string;
  pid: number;
  log: string;
}

export async function startDaemon(opts: { name: string; command: string; args: string[]; pidDir: string; logDir: string; env?: Record<string, string> }): Promise<Daemon> {
  const log = join(opts.logDir, `${opts.name}.log`);
  const fd = openSync(log, 'a');
  try {
    const child = spawn(opts.command, opts.args, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...opts.env } });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', (err) => reject(new EnvironmentError(`cannot start ${opts.name} (${opts.command}): ${err.message}`)));
    });
    child.unref();
    await writeFile(join(opts.pidDir, `${opts.name}.pid`), `${pid} ${(await processStartTime(pid)) ?? ''}\n`);
    return { name: opts.name, pid, log };
  } finally {
    closeSync(fd);
  }
}

/** What a pid file names now: nothing, the process it recorded, or a pid another process has since taken (reused, e.g. after a reboot). */
async function recorded(pidDir: string, name: string): Promise<{ pid: number; ours: boolean } | undefined> {
  const text = await readFile(join(pidDir, `${name}.pid`), 'utf8').catch(() => '');
  const [pidText, started] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!pid || !processAlive(pid)) return undefined;
  return { pid, ours: !started || (await processStartTime(pid)) === started };
}

/** The process a pid file names, if it is still that process. */
export async function daemonPid(pidDir: string, name: string): Promise<number | undefined> {
  const r = await recorded(pidDir, name);
  return r?.ours ? r.pid : undefined;
}

/**
 * Resolves when `pid` has exited, false at the deadline. Linux tells only a parent when a
 * process exits (Node has no pidfd), and these processes were started by another kubeproof
 * process: so this is the one place that checks in a loop, every 20 ms, bounded by `withinMs`.
 */
export async function exited(pid: number, withinMs: number): Promise<boolean> {
  const deadline = performance.now() + withinMs;
  while (processAlive(pid) && !(await readFile(`/proc/${pid}/stat`, 'utf8').then((s) => s.slice(s.lastIndexOf(')') + 2).startsWith('Z')).catch(() => true))) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** How stopDaemon ended: nothing ran, stopped by SIGTERM, SIGKILLed, or the pid is another process's now (not signalled). */
export type DaemonStop = 'not running' | 'stopped' | 'killed' | `left alone: ${string}`;

/**
 * SIGTERM, then SIGKILL after `graceMs`; the pid file goes once the process is gone. Returns how it ended.
 * A pid file that names some other process now (its start time differs: the pid was reused, e.g.
 * after a reboot) is not signalled: that is said in the result, and the stale pid file goes.
 */
export async function stopDaemon(pidDir: string, name: string, graceMs = 10_000): Promise<DaemonStop> {
  const r = await recorded(pidDir, name);
  let how: DaemonStop = 'not running';
  if (r && !r.ours) how = `left alone: pid ${r.pid} is no longer this ${name} (another process has that pid now)`;
  else if (r) {
    const pid = r.pid;
    process.kill(pid, 'SIGTERM');
    how = 'stopped';
    if (!(await exited(pid, graceMs))) {
      process.kill(pid, 'SIGKILL');
      how = 'killed';
      if (!(await exited(pid, 5000))) throw new EnvironmentError(`${name} (pid ${pid}) did not exit after SIGKILL`);
    }
  }
  await rm(join(pidDir, `${name}.pid`), { force: true });
  return how;
}
