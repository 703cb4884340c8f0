/**
 * A cross-process lock: a directory renamed into place complete with its owner inside
 * (pid, host, the pid's kernel start time), so the lock never exists without its owner, and a
 * lock whose owner died — or whose pid was reused — is taken over. Waiting is on the lock's
 * removal (fs.watch on its parent), with a re-check every `pollMs` for an owner that died
 * (a death makes no file event). Used for the binary cache's builds and kwokctl's creations.
 */
import { mkdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { watch } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { processAlive, processStartTime } from '../host.js';

export interface LockOwner {
  pid: number;
  host: string;
  /** /proc start time of the owner (Linux), to tell a reused pid from the owner. */
  start?: string;
  since: string;
}

async function readOwner(lockDir: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(join(lockDir, 'owner.json'), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/** A lock held by a process that no longer exists (or, from another host, older than a day). */
async function ownerGone(owner: LockOwner): Promise<boolean> {
  if (owner.host !== hostname()) return Date.now() - Date.parse(owner.since) > 24 * 3600_000;
  if (!processAlive(owner.pid)) return true;
  if (owner.start) {
    const now = await processStartTime(owner.pid);
    if (now !== undefined && now !== owner.start) return true; // the pid was reused
  }
  return false;
}

const errCode = (err: unknown) => (err as NodeJS.ErrnoException).code;

async function tryAcquire(lockDir: string): Promise<{ acquired: true } | { acquired: false; owner?: LockOwner }> {
  // Build the lock complete (owner inside) and rename it into place: the lock dir never exists without its owner.
  const staging = `${lockDir}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(staging);
  const me: LockOwner = { pid: process.pid, host: hostname(), start: await processStartTime(process.pid), since: new Date().toISOString() };
  await writeFile(join(staging, 'owner.json'), JSON.stringify(me));
  try {
    await rename(staging, lockDir);
    return { acquired: true };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (errCode(err) !== 'ENOTEMPTY' && errCode(err) !== 'EEXIST') throw err;
  }
  const owner = await readOwner(lockDir);
  if (owner && !(await ownerGone(owner))) return { acquired: false, owner };
  if (!owner) {
    // Not ours (no owner.json): only an old one is taken to be abandoned.
    const st = await stat(lockDir).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs < 60_000) return { acquired: false };
  }
  await breakStale(lockDir, owner);
  return { acquired: false }; // the caller retries at once
}

/** Move a stale lock away, under a second lock so two breakers cannot remove a fresh owner's lock. */
async function breakStale(lockDir: string, seen: LockOwner | undefined): Promise<void> {
  const breaker = `${lockDir}.break`;
  try {
    await mkdir(breaker);
  } catch (err) {
    if (errCode(err) !== 'EEXIST') throw err;
    const st = await stat(breaker).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > 10_000) await rmdir(breaker).catch(() => {}); // its breaker died
    return;
  }
  try {
    const owner = await readOwner(lockDir);
    // Still the same stale owner? (Another breaker may have replaced it with a live one meanwhile.)
    if (owner?.pid === seen?.pid && owner?.since === seen?.since) {
      const away = `${lockDir}.stale-${randomBytes(4).toString('hex')}`;
      await rename(lockDir, away).catch(() => {});
      await rm(away, { recursive: true, force: true });
    }
  } finally {
    await rmdir(breaker).catch(() => {});
  }
}

export function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/** Resolves when something in the lock's parent dir changes (the lock went), after `recheckMs`, or rejects on abort. */
function lockChanged(lockDir: string, recheckMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const watcher = watch(dirname(lockDir), () => finish());
    const recheck = setTimeout(() => finish(), recheckMs);
    const onAbort = () => finish(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    function finish(err?: Error) {
      watcher.close();
      clearTimeout(recheck);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    }
  });
}

/**
 * Run `fn` holding the lock `lockDir`. While a live process holds it, waits for its removal;
 * takes over a lock whose owner died. `onWait` is told once, when a live owner makes it wait.
 */
export async function withDirLock<T>(
  lockDir: string,
  fn: () => Promise<T>,
  opts: { signal?: AbortSignal; onWait?: (owner: LockOwner | undefined) => void; pollMs?: number } = {},
): Promise<T> {
  await mkdir(dirname(lockDir), { recursive: true });
  let told = false;
  for (;;) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    const r = await tryAcquire(lockDir);
    if (r.acquired) break;
    if (r.owner && !told) {
      opts.onWait?.(r.owner);
      told = true;
    }
    // A live owner: wait for its lock to go. No owner (being created, or a stale one just moved away): retry soon.
    await lockChanged(lockDir, r.owner ? (opts.pollMs ?? 1000) : 50, opts.signal);
  }
  try {
    return await fn();
  } finally {
    // Moved away whole, then removed: removing it in place empties it first, and a waiter's
    // rename(staging, lockDir) replaces an empty directory — it would take the lock while we
    // are still releasing it, and our rmdir would then fail (ENOTEMPTY) on its owner.json.
    const released = `${lockDir}.released-${process.pid}-${randomBytes(4).toString('hex')}`;
    const moved = await rename(lockDir, released).then(() => true, (err: unknown) => { if (errCode(err) !== 'ENOENT') throw err; return false; });
    if (moved) await rm(released, { recursive: true, force: true });
  }
}
