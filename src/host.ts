/** This machine: where a command is, whether a process lives. */
import { access, constants, readFile, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** Root's PATH on Debian has the sbin dirs; a user's may not (runc and iptables live there). */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The executable file `command` resolves to on PATH (and the sbin dirs), like `command -v`. */
export async function onPath(command: string, opts: { pathEnv?: string; sbin?: boolean } = {}): Promise<string | undefined> {
  const dirs = [...(opts.pathEnv ?? process.env.PATH ?? '').split(delimiter), ...(opts.sbin ? SBIN_DIRS : [])];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether a process with this pid exists (one we may not signal counts: it exists). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A process's kernel start time (field 22 of /proc/<pid>/stat), so a reused pid is never
 * mistaken for the process that had it. The command name (field 2) may contain spaces and
 * parentheses: fields are counted after the last ')'.
 */
export async function processStartTime(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}
