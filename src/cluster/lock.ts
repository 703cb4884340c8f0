/**
 * A cross-process lock on a directory: `mkdir` is atomic, the owner's pid inside lets a
 * later process take over a lock whose owner died. Waiting is on the lock's removal
 * (fs.watch on the parent), with a slow re-check for a dead owner.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { watch } from 'node:fs';
import { dirname } from 'node:path';
import { processAlive } from '../host.js';


async function tryAcquire(lockDir: string): Promise<boolean> {
  try {
    await mkdir(lockDir);
    await writeFile(`${lockDir}/pid`, String(process.pid));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const pid = Number((await readFile(`${lockDir}/pid`, 'utf8').catch(() => '')).trim());
  // A lock without a pid file is being created right now, unless it is old; treat only a dead owner as stale.
  if (pid && !processAlive(pid)) {
    await rm(lockDir, { recursive: true, force: true });
    return tryAcquire(lockDir);
  }
  return false;
}

/** Wait for the lock dir to go away: fs.watch on the parent, plus a re-check every second for a dead owner. */
function lockReleased(lockDir: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(dirname(lockDir), () => done());
    const recheck = setInterval(() => done(), 1000);
    function done() {
      watcher.close();
      clearInterval(recheck);
      resolve();
    }
  });
}

export async function withLock<T>(lockDir: string, fn: () => Promise<T>, onWait?: () => void): Promise<T> {
  await mkdir(dirname(lockDir), { recursive: true });
  let told = false;
  while (!(await tryAcquire(lockDir))) {
    if (!told) onWait?.();
    told = true;
    await lockReleased(lockDir);
  }
  try {
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
