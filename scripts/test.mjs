#!/usr/bin/env node
// npm test: unit tests, then the local-cluster integration tests, then every shipped feature
// through `kubeproof run` on a fresh local cluster. Ends with one line "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'kubeproof-test-'));
const only = process.argv.slice(2); // e.g. `npm test -- unit`
const want = (part) => only.length === 0 || only.includes(part);
let passed = 0;
let failed = 0;

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
  const pass = Number(text.match(/^# pass (\d+)/m)?.[1] ?? 0);
  const fail = Number(text.match(/^# fail (\d+)/m)?.[1] ?? 0) + Number(text.match(/^# cancelled (\d+)/m)?.[1] ?? 0);
  passed += pass;
  failed += fail || (r.status !== 0 ? 1 : 0);
  process.stderr.write(`${name}: ${pass} passed, ${fail} failed\n`);
}

const build = sh('npx', ['tsc', '-p', '.']);
if (build.status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

if (want('unit')) nodeTests('unit', 'unit');
if (want('integration') || want('features')) {
  const b = sh(process.execPath, ['scripts/build-binaries.mjs']);
  if (b.status !== 0) {
    failed += 1;
    process.stderr.write('the Kubernetes binaries could not be built: integration tests and features not run\n');
  } else {
    if (want('integration')) nodeTests('integration', 'integration');
    if (want('features')) {
      const reports = join(tmp, 'reports');
      const r = sh(process.execPath, ['bin/kubeproof.js', 'run', '--reports', reports]);
      const summaryPath = join(reports, 'latest', 'summary.json');
      if (existsSync(summaryPath)) {
        const s = JSON.parse(readFileSync(realpathSync(summaryPath), 'utf8'));
        passed += s.totals.passed;
        failed += s.totals.failed + (s.totals.notApplicable ?? 0);
        process.stderr.write(`features: ${s.totals.passed} passed, ${s.totals.failed} failed, ${s.totals.notApplicable ?? 0} not applicable (exit ${r.status}); reports in ${reports}\n`);
      } else {
        failed += 1;
        process.stderr.write(`features: kubeproof run wrote no summary (exit ${r.status})\n`);
      }
      if (r.status !== 0 && existsSync(summaryPath)) failed += JSON.parse(readFileSync(realpathSync(summaryPath), 'utf8')).totals.failed === 0 ? 1 : 0;
    }
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
