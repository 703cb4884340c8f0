/**
 * What a step needs an earlier step to have done is checked when the steps are matched, before
 * any cluster: exit 2 with file:line, not a failure minutes into the run. A scenario that has
 * what its steps need gets past matching (here: to the unreachable API server, exit 3).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubeconfigYaml } from './support.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
let dir: string;
let kubeconfig: string;

/** `kubeproof run` of one feature against a context whose API server does not answer: matching happens first. */
function run(text: string) {
  const file = join(dir, `f${Math.random().toString(36).slice(2, 8)}.feature`);
  writeFileSync(file, text);
  const r = spawnSync(process.execPath, [join(root, 'bin/kubeproof.js'), 'run', file, '--cluster', 'existing', '--kubeconfig', kubeconfig, '--allow-context', 'nowhere', '--reports', join(dir, 'reports')], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, file };
}

const scenario = (steps: string[]) => `Feature: needs\n  Scenario: one\n${steps.map((s) => `    ${s}\n`).join('')}`;

describe('what steps need of the steps before them', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubeproof-needs-'));
    kubeconfig = join(dir, 'kubeconfig.yaml');
    writeFileSync(kubeconfig, kubeconfigYaml([{ name: 'nowhere', server: 'https://127.0.0.1:1' }], 'nowhere'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const refused: Array<[string, string[], RegExp]> = [
    ['a drain check without a drain of that node', ['When node "node-2" is drained', 'Then the drain of node "node-1" completed within 60 s'], /:5: "the drain of node "node-1" completed within 60 s" needs a drain of node "node-1" earlier in its scenario \(e\.g\. "When node "node-1" is drained"\)/],
    ['the unready pods of a workload whose readiness was not broken', ['When 1 pod of deployment "db" fails readiness', 'Then within 5 s the unready pod of deployment "web" leaves the ready endpoints of service "web"'], /:5: .* needs a readiness break of deployment "web" earlier/],
    ['a restore with nothing broken', ['When every broken readiness is restored'], /:4: .* needs a readiness break earlier/],
    ['an eviction delay without a taint', ['Then the pods of deployment "web" left node "node-1" between 0 s and 3 s after the taint'], /needs a taint earlier/],
    ['replacements of a node that was not taken down', ['When node "node-3" reports NotReady', 'Then within 60 s the pods of node "node-2" are replaced on other nodes'], /needs node "node-2" taken down earlier/],
    ['availability not measured', ['Then service "web" had no outage longer than 2 s'], /needs availability of service "web" measured earlier .*Given availability of service "web" is measured/],
    ['a percentile without trials', ['Then the p90 recovery time over the trials is under 10 s'], /needs repeated trials earlier/],
    ['a back-off without a container kill', ['Then the kubelet held the killed container in CrashLoopBackOff for at least 5 s'], /needs a container kill earlier/],
    ['removing a load never offered', ['When the load on deployment "shop" is removed'], /needs a load offered to deployment "shop" earlier/],
    ['a DaemonSet scaled by replicas', ['When daemonset "agent" is scaled to 5 replicas'], /:4: "daemonset "agent" is scaled to 5 replicas": a DaemonSet cannot be scaled by replicas/],
    ['"unavailable" for a Job', ['Then at no moment were more than 0 pods of job "migrate" unavailable'], /"at no moment were more than 0 pods of job "migrate" unavailable": a Job's pods run to completion/],
  ];
  for (const [what, steps, message] of refused) {
    it(`refuses ${what}: exit 2 with file:line, before any cluster`, () => {
      const r = run(scenario(['Given deployment "web" from "scenarios/web" is ready', ...steps]));
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, message);
      assert.doesNotMatch(r.out, /not reachable/);
    });
  }

  it('names every unmet need at once', () => {
    const r = run(scenario(['Then the drain of node "node-1" gave up, blocked by PodDisruptionBudget "ledger"', 'And availability of service "web" stayed ≥ 99.5 %']));
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /2 steps cannot run/);
    assert.match(r.out, /:3: .*a drain of node "node-1"/);
    assert.match(r.out, /:4: .*availability of service "web" measured/);
  });

  it('lets through what has its needs, from the Background or an earlier step, and checks that need nothing before them', () => {
    const r = run(`Feature: met
  Background:
    Given deployment "web" from "scenarios/web" is ready
    And availability of service "web" is measured

  Scenario: drained through its zone, readiness broken, evictions with and without a broken readiness
    When the nodes in zone "a" are drained one after another
    Then the drain of node "node-1" completed within 60 s
    And evicting a Ready pod of deployment "web" is refused with 429
    When 1 pod of deployment "web" fails readiness
    Then within 5 s the unready pod of deployment "web" leaves the ready endpoints of service "web"
    And for 5 s pod "web-1" is neither restarted nor replaced
    And evicting an unready pod of deployment "web" is refused with 429
    And service "web" had at least 2 ready endpoints at every moment
    And at no moment were more than 1 pod of daemonset "agent" unavailable
    And deployment "web" has at least 2 ready replicas
    And deployment "web" now has at least 2 ready replicas
`);
    assert.equal(r.code, 3, r.out);
    assert.match(r.out, /not reachable/);
  });
});
