/** The command line's own contract, without a cluster: help, usage errors, exit codes. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const kp = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(root, 'bin/kubeproof.js'), ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
};

describe('kubeproof command line', () => {
  it('--help lists every command and the exit codes', () => {
    const r = kp('--help');
    assert.equal(r.code, 0);
    for (const c of ['run', 'plan', 'steps', 'cluster', 'clean', 'doctor', 'image']) assert.match(r.out, new RegExp(`^  ${c}\\b`, 'm'));
    assert.match(r.out, /exit codes: 0 passed · 1 a scenario failed · 2 bad input/);
  });

  it('every command has --help with its usage', () => {
    for (const c of ['run', 'plan', 'steps', 'cluster', 'clean', 'doctor']) {
      const r = kp(c, '--help');
      assert.equal(r.code, 0, `${c}: ${r.out}`);
      assert.match(r.out, new RegExp(`usage: kubeproof ${c}`));
    }
  });

  it('an unknown command, an unknown flag or a bad value is exit 2 with the usage', () => {
    const unknown = kp('frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.out, /unknown command "frobnicate"/);
    const flag = kp('cluster', 'up', '--nodez', '3');
    assert.equal(flag.code, 2);
    assert.match(flag.out, /--nodez/);
    assert.match(flag.out, /usage: kubeproof cluster up/);
    const value = kp('run', '--cluster', 'moon');
    assert.equal(value.code, 2);
    assert.match(value.out, /--cluster must be local, kind or existing, not "moon"/);
    const count = kp('run', '--parallel', 'two');
    assert.equal(count.code, 2);
    assert.match(count.out, /--parallel must be a whole number/);
  });

  it('a feature file that does not parse is exit 2 with file:line, before any cluster starts', () => {
    const r = kp('run', 'test/fixtures/broken.feature');
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /broken\.feature:\d+/);
    assert.doesNotMatch(r.out, /starting local cluster/);
  });

  it('steps prints every step with an example, and --json the same as data', () => {
    const text = kp('steps');
    assert.equal(text.code, 0);
    assert.match(text.stdout, /When node \{string\} is drained\n\s+e\.g\. When node "node-1" is drained/);
    const json = JSON.parse(kp('steps', '--json').stdout) as Array<{ keyword: string; expression: string; example: string }>;
    assert.ok(json.length > 50);
    assert.ok(json.every((s) => s.example.startsWith(`${s.keyword} `) || s.example.includes(' ')));
  });
});
