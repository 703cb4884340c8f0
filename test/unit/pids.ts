/** Pids for tests of who holds what: one that is no process now. No side effects (the integration tests import it too). */
/** A pid that is no process on this machine now (the holder of a Lease whose run was SIGKILLed, a dead daemon's pid file). */
export function deadPid(): number {
  for (let pid = 4_000_000; ; pid--) {
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return pid;
    }
  }
}
