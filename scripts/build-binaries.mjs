#!/usr/bin/env node
// Build (or find cached) the local cluster's binaries: Kubernetes, etcd, kwok, metrics-server,
// from source through the Go module proxy, into ~/.cache/kubeproof/bin/<version set>.
// Progress goes to stderr; stdout gets the directory. Needs `npx tsc -p .` first (imports dist/).
// Exit 0, or the error's exit code (3: Go missing/too old or the build failed; 130/143: interrupted).
import { ensureBinaries } from '../dist/src/cluster/build/binaries.js';
import { stderrLog } from '../dist/src/log.js';
import { describeError, exitCodeOf, ExitCode } from '../dist/src/errors.js';

const abort = new AbortController();
let interruptedBy;
// `on`, not `once`: execa's exit handler re-raises a signal that has no other listener left,
// which would kill this process before the build could clean up.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (interruptedBy) return;
    interruptedBy = sig;
    abort.abort(new Error(`interrupted (${sig})`));
  });
}

try {
  const set = await ensureBinaries({ log: stderrLog, signal: abort.signal });
  process.stdout.write(`${set.dir}\n`);
  process.exitCode = 0;
} catch (err) {
  process.stderr.write(`build-binaries: ${describeError(err)}\n`);
  process.exitCode = interruptedBy === 'SIGINT' ? ExitCode.interrupted : interruptedBy === 'SIGTERM' ? ExitCode.terminated : exitCodeOf(err);
}
