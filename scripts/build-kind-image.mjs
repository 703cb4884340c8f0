#!/usr/bin/env node
// Build (or find cached) what `--cluster kind` needs offline: the kind CLI (from PATH, else built
// from the Go module proxy into ~/.cache/kubeproof/kind/cli/) and the node image built from the
// local cluster's pinned version set (~/.cache/kubeproof/kind/node-image/<id>/image.tar, then
// `docker load`ed). Needs root, debootstrap, a Docker engine (CI and tests here:
// scripts/docker-engine.sh start) and `npx tsc -p .` first (imports dist/).
// Progress goes to stderr; stdout gets `KIND=<path>` and `KIND_NODE_IMAGE=<ref>` (for `export $(…)`).
// Exit 0, or the error's exit code (3: environment: Go, Docker, debootstrap, a build; 130/143: interrupted).
import { ensureKindCli } from '../dist/src/cluster/build/kind-tools.js';
import { ensureKindNodeImage } from '../dist/src/cluster/build/kind-node-image.js';
import { formatDuration, stderrLog } from '../dist/src/log.js';
import { describeError, exitCodeOf, ExitCode } from '../dist/src/errors.js';

const abort = new AbortController();
let interruptedBy;
// `on`, not `once`: execa's exit handler re-raises a signal that has no other listener left.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (interruptedBy) return;
    interruptedBy = sig;
    abort.abort(new Error(`interrupted (${sig})`));
  });
}

try {
  const t0 = performance.now();
  const kind = await ensureKindCli({ log: stderrLog, signal: abort.signal });
  stderrLog(`kind CLI: ${kind.path} (${kind.source === 'path' ? 'on PATH' : 'built from the Go module proxy'}; ${kind.version})`);
  const image = await ensureKindNodeImage({ log: stderrLog, signal: abort.signal });
  const how = { docker: 'already in Docker', archive: `loaded from ${image.archive}`, built: `built, saved as ${image.archive}` }[image.source];
  stderrLog(`kind node image: ${image.ref} (${how}) — ${formatDuration(performance.now() - t0)} in all`);
  process.stdout.write(`KIND=${kind.path}\nKIND_NODE_IMAGE=${image.ref}\n`);
  process.exitCode = 0;
} catch (err) {
  process.stderr.write(`build-kind-image: ${describeError(err)}\n`);
  process.exitCode = interruptedBy === 'SIGINT' ? ExitCode.interrupted : interruptedBy === 'SIGTERM' ? ExitCode.terminated : exitCodeOf(err);
}
