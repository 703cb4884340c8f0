#!/usr/bin/env node
// npm test: unit tests, then the local-cluster integration tests, then every shipped feature
// through `kubeproof run` on a fresh local cluster, then on a fresh kind cluster (where a Docker
// engine answers; required under CI=true). Ends with one line "N passed, N failed, N skipped".
//
// What this machine cannot run is skipped with the reason, and counted as skipped: as root it
// first installs the real-node packages itself (scripts/install-real-node-packages.sh), so
// elsewhere that means a user without root. Under CI=true nothing may be skipped for want of
// a package: the real-node tests and the @real features then count as failures.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, existsSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'kubeproof-test-'));
const only = process.argv.slice(2); // e.g. `npm test -- unit`
const want = (part) => only.length === 0 || only.includes(part);
const ci = process.env.CI === 'true';
// Every shipped feature runs on kind too (what kind lacks is not applicable there, with the
// reason, and counted as skipped), except those listed here until they have run there.
const KIND_PENDING = [];
const KIND_FEATURES = readdirSync(join(root, 'features'))
  .filter((f) => f.endsWith('.feature') && !KIND_PENDING.includes(f.replace(/\.feature$/, '')))
  .sort()
  .map((f) => `features/${f}`);
let passed = 0;
let failed = 0;
let skipped = 0;

function sh(cmd, args, opts = {}) {
  process.stderr.write(`\n$ ${cmd} ${args.join(' ')}\n`);
  return spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
}

function nodeTests(name, dir) {
  const full = join(root, 'dist/test', dir);
  if (!existsSync(full)) return;
  const files = readdirSync(full).filter((f) => f.endsWith('.test.js')).map((f) => join('dist/test', dir, f));
  if (files.length === 0) return;
  const tap = join(tmp, `${name}.tap`);
  const r = sh(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files]);
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const count = (what) => Number(text.match(new RegExp(`^# ${what} (\\d+)`, 'm'))?.[1] ?? 0);
  const pass = count('pass');
  const fail = count('fail') + count('cancelled');
  const skip = count('skipped') + count('todo');
  passed += pass;
  failed += fail || (r.status !== 0 ? 1 : 0);
  skipped += skip;
  process.stderr.write(`${name}: ${pass} passed, ${fail} failed, ${skip} skipped\n`);
}

// A clean dist/: tsc never deletes the output of a source that is gone, and a deleted test's .js would still run.
rmSync(join(root, 'dist'), { recursive: true, force: true });
const build = sh('npx', ['tsc', '-p', '.']);
if (build.status !== 0) {
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}

if (want('unit')) nodeTests('unit', 'unit');
if (want('integration') || want('features') || want('kind')) {
  // As root, install what a real node needs (Debian's packages); otherwise those parts are skipped with the reason.
  const pkgs = sh('bash', ['scripts/install-real-node-packages.sh']);
  if (pkgs.status !== 0) process.stderr.write(`the real-node packages are missing: real-node tests and @real features ${ci ? 'count as failed (CI=true)' : 'are skipped'}\n`);
  // And what the offline kind node image is built with (debootstrap): a fresh machine has none.
  if (want('integration') || want('kind')) sh('bash', ['scripts/install-kind-build-packages.sh']);
  const b = sh(process.execPath, ['scripts/build-binaries.mjs']);
  if (b.status !== 0) {
    failed += 1;
    process.stderr.write('the Kubernetes binaries could not be built: integration tests and features not run\n');
  } else {
    if (want('integration')) nodeTests('integration', 'integration');
    if (want('features')) features('features', ['run'], { naRequired: ci });
    if (want('kind')) {
      const engine = spawnSync('docker', ['info'], { stdio: 'ignore' });
      if (engine.status === 0) {
        // kind's nodes are real kubelets: what only KWOK can do is not applicable there, with the reason, and counts as skipped.
        features('kind', ['run', '--cluster', 'kind', '--kind-image', process.env.KUBEPROOF_KIND_IMAGE ?? 'offline', ...KIND_FEATURES], { naRequired: false });
      } else if (ci) {
        failed += 1;
        process.stderr.write('kind: no Docker engine answers (`docker info` failed); under CI=true the kind features are required (.ci/run starts one with scripts/docker-engine.sh)\n');
      } else {
        skipped += 1;
        process.stderr.write('kind: skipped, no Docker engine answers (`docker info` failed)\n');
      }
    }
  }
}

/** `kubeproof <args>` over the shipped features; totals from its summary.json. `naRequired`: not-applicable counts as failed. */
function features(name, args, { naRequired }) {
  const reports = join(tmp, `reports-${name}`);
  const r = sh(process.execPath, ['bin/kubeproof.js', ...args, '--reports', reports]);
  const summaryPath = join(reports, 'latest', 'summary.json');
  if (!existsSync(summaryPath)) {
    failed += 1;
    process.stderr.write(`${name}: kubeproof run wrote no summary (exit ${r.status})\n`);
    return;
  }
  const s = JSON.parse(readFileSync(realpathSync(summaryPath), 'utf8'));
  const na = s.scenarios.filter((x) => x.status === 'not-applicable');
  for (const x of na) process.stderr.write(`${name}: not applicable: ${x.location} ${x.name}: ${x.data?.notApplicable ?? ''}\n`);
  passed += s.totals.passed;
  failed += s.totals.failed + (naRequired ? na.length : 0);
  skipped += s.totals.skipped + (naRequired ? 0 : na.length);
  process.stderr.write(`${name}: ${s.totals.passed} passed, ${s.totals.failed} failed, ${na.length} not applicable (${naRequired ? 'failed under CI=true' : 'skipped'}), ${s.totals.skipped} skipped (exit ${r.status}); reports in ${reports}\n`);
  // A non-zero exit that no failed scenario explains (cleanup incomplete, residue, nothing tested) is a failure of its own.
  if (r.status !== 0 && s.totals.failed === 0) failed += 1;
}

console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
