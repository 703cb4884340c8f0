/** What the integration tests share: the CLI as a child process, mid-fault stops, the real-node skip reason. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until, type Condition } from '../../src/wait/until.js';
import { realNodeRequirements } from '../../src/cluster/real-node/host.js';
import { realNodeHolder } from '../../src/cluster/real-node/teardown.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'bin/kubeproof.js');

export interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

export interface Running {
  child: ChildProcess;
  done: Promise<Done>;
}

/** Write a feature file into `dir`; its path. */
export function writeFeature(dir: string, file: string, text: string): string {
  const path = join(dir, file);
  writeFileSync(path, text);
  return path;
}

/** `kubeproof <args>` from the project root, stdout and stderr collected together. */
export function kubeproof(args: string[]): Running {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<Done>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out })));
  return { child, done };
}

/**
 * Wait (on watch events) until `inPlace` holds while `run` is still running, then send it
 * `signal`. Fails at once, with the run's output, if the run ends first; a run that never got
 * its faults in place is killed.
 */
export async function stopMidFault(run: Running, inPlace: Condition, signal: NodeJS.Signals, withinMs = 120_000): Promise<Done> {
  const ended = run.done.then((r) => {
    throw new Error(`the run ended (exit ${r.code}) before its faults were in place:\n${r.out}`);
  });
  ended.catch(() => undefined); // only the race reads it
  try {
    await Promise.race([until(inPlace, { within: withinMs }), ended]);
  } catch (err) {
    run.child.kill('SIGKILL');
    throw err;
  }
  run.child.kill(signal);
  return run.done;
}

/**
 * Why the real-node tests cannot run on this machine now, or false. Under CI=true they must
 * run: there a missing package is not a reason to skip, and the tests fail with it instead.
 */
export async function realNodeSkipReason(): Promise<string | false> {
  const missing = (await realNodeRequirements()).filter((r) => !r.ok);
  const holder = await realNodeHolder();
  const other = holder ? { name: holder } : undefined;
  const reason = missing.length ? `real-node tests need ${missing.map((m) => `${m.name}${m.fix ? ` (${m.fix})` : ''}`).join(', ')}` : other ? `cluster "${other.name}" already has this machine's one real node` : false;
  if (reason && process.env.CI === 'true') throw new Error(`${reason}; under CI=true the real-node tests are required`);
  return reason;
}
