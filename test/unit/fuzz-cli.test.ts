/**
 * Bad input through the command line, generated (fast-check, a few runs: each is a process):
 * a valid feature with one generated defect, or a generated kubeproof.config.json, given to
 * `kubeproof run` against a kubeconfig whose server refuses every connection. The run must
 * stop at the input — exit 2, the file:line, no stack trace — before it asks any server
 * anything (it would exit 3 "not reachable"), so nothing can have been applied.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const RUNS = Number(process.env.KUBEPROOF_FUZZ_CLI_RUNS ?? 2);
let dir: string;
let kubeconfig: string;

const kp = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(root, 'bin/kubeproof.js'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

const STACK = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

const VALID = [
  'Feature: generated',
  '  Scenario: one',
  '    Given a cluster with at least 3 Ready nodes',
  '    And deployment "web" from "scenarios/web" is ready',
  '    When 1 pod of deployment "web" is killed',
  '    Then within 30 s 3 pods of deployment "web" are Ready',
  '    And for 5 s at least 2 pods of deployment "web" stay Ready',
];

/** One defect at one line of the valid feature: the line that must be named. */
const defect = fc.oneof(
  // A step line made of noise, or a real step with an argument of the wrong kind.
  fc.tuple(fc.integer({ min: 3, max: 7 }), fc.string({ minLength: 1, maxLength: 30 }).filter((s) => /\S/.test(s) && !s.includes('\n'))).map(([line, noise]) => ({ line, text: `    When ${noise.replace(/[\r#|@"]/g, 'x')} zz` })),
  fc.tuple(fc.constant(6), fc.constantFrom('1000 h', '150%', '0 pods', '99999999999999999 pods', 'soon', '-3 s', 'many')).map(([, bad]) => ({ line: 6, text: `    Then within ${bad} 3 pods of deployment "web" are Ready` })),
  fc.constantFrom('150% of the pods', '0 pods', '0% of the pods').map((bad) => ({ line: 4, text: `    When ${bad} of deployment "web" are killed` })),
  // Gherkin that does not parse, and a data table under a step that takes none.
  fc.constantFrom('  Scenario Outline', '    """', '  Examples:', '    | a |', 'Feature: twice', '  Rule', '\tBackground:').map((text) => ({ line: 5, text })),
  // A step that takes a docstring, without one.
  fc.constant({ line: 4, text: '    And this manifest is applied:' }),
);

describe('bad input through kubeproof run, generated', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubeproof-fuzz-cli-'));
    kubeconfig = join(dir, 'kubeconfig.yaml');
    // Port 1 refuses every connection: a run that got past its input would exit 3, not 2.
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: fuzz, context: {cluster: c, user: u}}]\ncurrent-context: fuzz\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the valid feature gets past its input (exit 3 on the refusing server): the defects below are what stops the others', () => {
    const file = join(dir, 'valid.feature');
    writeFileSync(file, `${VALID.join('\n')}\n`);
    const r = kp('run', file, '--cluster', 'existing', '--kubeconfig', kubeconfig, '--allow-context', 'fuzz');
    assert.equal(r.code, 3, r.out);
  });

  it('a feature with a generated defect: exit 2 naming its file:line, no stack trace, no request sent', () => {
    let n = 0;
    fc.assert(
      fc.property(defect, ({ line, text }) => {
        const lines = [...VALID];
        lines.splice(line - 1, 1, text);
        const file = join(dir, `defect-${n++}.feature`);
        writeFileSync(file, `${lines.join('\n')}\n`);
        const r = kp('run', file, '--cluster', 'existing', '--kubeconfig', kubeconfig, '--allow-context', 'fuzz');
        assert.equal(r.code, 2, `${text}\n${r.out}`);
        assert.match(r.out, new RegExp(`defect-${n - 1}\\.feature:\\d+`), r.out);
        assert.doesNotMatch(r.out, STACK, r.out);
        assert.doesNotMatch(r.out, /not reachable|starting local cluster/, r.out);
      }),
      { numRuns: RUNS * 2, endOnFailure: true },
    );
  });

  it('a generated kubeproof.config.json that is not a valid config: exit 2 naming the file, no stack trace', () => {
    const feature = join(dir, 'valid.feature');
    let n = 0;
    const bad = fc.oneof(
      fc.string({ maxLength: 30 }).filter((t) => {
        try {
          JSON.parse(t);
          return false;
        } catch {
          return true;
        }
      }),
      fc.constantFrom('{"allowContexts": "staging"}', '{"allowContexts": [""]}', '{"nodeCommands": {"stop": "ssh x"}}', '[]', 'null', '{"allowContexts": [1]}'),
    );
    fc.assert(
      fc.property(bad, (text) => {
        const file = join(dir, `config-${n++}.json`);
        writeFileSync(file, text);
        const r = kp('run', feature, '--config', file, '--cluster', 'existing', '--kubeconfig', kubeconfig, '--allow-context', 'fuzz');
        assert.equal(r.code, 2, `${JSON.stringify(text)}\n${r.out}`);
        assert.match(r.out, new RegExp(`config-${n - 1}\\.json`), r.out);
        assert.doesNotMatch(r.out, STACK, r.out);
        assert.doesNotMatch(r.out, /not reachable/, r.out);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });
});
