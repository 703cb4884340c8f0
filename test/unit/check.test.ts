/**
 * `kubeproof check`: the features without a cluster or a kubeconfig. A misspelt step, an
 * argument of the wrong type, an object no manifest of its scenario defines and a broken
 * manifest each exit 2 with file:line; the shipped features pass with HOME and KUBECONFIG
 * pointing at an empty directory.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
let dir: string;
let empty: string;

function check(args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin/kubeproof.js'), 'check', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, HOME: empty, KUBECONFIG: join(empty, 'kubeconfig') } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function feature(lines: string[]): string {
  const file = join(dir, `f${Math.random().toString(36).slice(2, 8)}.feature`);
  writeFileSync(file, `Feature: check\n  Scenario: one\n${lines.map((l) => `    ${l}\n`).join('')}`);
  return file;
}

const web = 'Given deployment "web" from "scenarios/web" is ready';

describe('kubeproof check', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubeproof-check-'));
    empty = mkdtempSync(join(tmpdir(), 'kubeproof-home-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  });

  it('passes the shipped features with no cluster and no kubeconfig', () => {
    const r = check(['features/']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /no problem(, \d+ note\(s\))? \(\d+ ms, \d+ ms of CPU\)/);
  });

  it('a misspelt step: exit 2 with file:line', () => {
    const f = feature([web, 'When 2 pods of deployment "web" are kiled']);
    const r = check([f]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /\.feature:4: "2 pods of deployment "web" are kiled"/);
  });

  it('Examples: with no rows (the scenario would run 0 times): exit 2 with the line of Examples:', () => {
    const f = feature([web, '  Examples:']);
    const r = check([f]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /\.feature:4: Examples: with no rows under scenario "one" \(line 2\): it would run 0 times/);
  });

  it('an argument of the wrong type: exit 2 with file:line, naming the parameter', () => {
    const f = feature([web, 'Then within soon 3 pods of deployment "web" are Ready']);
    const r = check([f]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /\.feature:4: .*"soon" is not a \{duration\}/);
  });

  it('an object its scenario never defines, a precondition missing, a broken docstring: every problem, in --json', () => {
    const f = feature([
      web,
      'When 2 pods of deployment "wbe" are killed',
      'Then within 5 s pod "db-1" leaves the ready endpoints of service "web"',
      'Then the drain of node "node-1" completed within 60 s',
      'Given this manifest is applied:',
      '  """',
      '  apiVersion: v1',
      '  kind: Pod',
      '  metadata:',
      '    name: x',
      '   spec: [',
      '  """',
      'Given deployment "api" from "scenarios/web" is ready',
      'Given the manifest "scenarios/nope.yaml" is applied',
    ]);
    const r = check([f, '--json']);
    assert.equal(r.code, 2, r.err);
    const report = JSON.parse(r.out) as { ok: boolean; problems: Array<{ file: string; line: number; message: string }> };
    assert.equal(report.ok, false);
    const at = (line: number) => report.problems.filter((p) => p.line === line).map((p) => p.message).join(' | ');
    assert.match(at(4), /Deployment "wbe" is not defined by any manifest applied earlier in its scenario \(it defines Deployment\/web/);
    assert.match(at(5), /Pod "db-1" is not defined/);
    assert.match(at(6), /needs a drain of node "node-1" earlier in its scenario/);
    assert.match(at(13), /invalid YAML/);
    assert.match(at(15), /Deployment "api" is not defined/);
    assert.match(at(16), /manifest "scenarios\/nope.yaml" does not exist/);
    assert.ok(report.problems.every((p) => p.file.endsWith('.feature')), JSON.stringify(report.problems));
  });

  it('what a lower bound or a window needs earlier in its scenario: exit 2 with file:line, before any run', () => {
    const shop = 'Given deployment "shop" from "scenarios/hpa" is ready';
    const cases: Array<{ lines: string[]; line: number; message: RegExp }> = [
      // No sooner than … with nothing to bound, and with a "within" but no fault to measure from.
      { lines: [web, 'Then it happened no sooner than 4 s after the fault'], line: 4, message: /needs a fault or change to measure from earlier in its scenario/ },
      { lines: [web, 'Then within 30 s 3 pods of deployment "web" are Ready', 'Then it happened no sooner than 4 s after the fault'], line: 5, message: /needs a fault or change to measure from earlier/ },
      { lines: [web, 'When 1 pod of deployment "web" is killed', 'Then it happened no sooner than 4 s after the fault'], line: 5, message: /needs a "within …" expectation to bound from below earlier/ },
      // The scale-down window runs from a load's removal.
      { lines: [shop, 'When a load of 0.4 CPU cores is offered to deployment "shop"', 'Then HPA "shop" does not scale down before its stabilization window has passed'], line: 5, message: /needs a load removed \(the scale-down window runs from the removal\) earlier in its scenario \(e\.g\. "When the load on deployment "shop" is removed"\)/ },
      // An "at no moment" claim with nothing opening its window.
      { lines: [web, 'Then at no moment were more than 1 pod of deployment "web" unavailable'], line: 4, message: /needs a fault or change to look from .* earlier in its scenario/ },
      { lines: ['Given the manifests in "scenarios/drain" are applied', 'Then PodDisruptionBudget "api" never allowed a negative number of disruptions'], line: 4, message: /needs a fault or change to look from/ },
    ];
    for (const c of cases) {
      const r = check([feature(c.lines)]);
      assert.equal(r.code, 2, `${c.lines.join(' / ')}: ${r.err}`);
      assert.match(r.err, new RegExp(`\\.feature:${c.line}: .*${c.message.source}`), c.lines.join(' / '));
    }
    // And with what they need, the same claims pass.
    const met = check([
      feature([web, 'When 1 pod of deployment "web" is killed', 'Then within 30 s 3 pods of deployment "web" are Ready', 'Then it happened no sooner than 4 s after the fault', 'Then at no moment were more than 1 pod of deployment "web" unavailable']),
      feature([shop, 'When a load of 0.4 CPU cores is offered to deployment "shop"', 'When the load on deployment "shop" is removed', 'Then HPA "shop" does not scale down before its stabilization window has passed']),
      feature([web, 'Then from now on, at no moment are more than 0 pods of deployment "web" unavailable', 'Then at no moment were more than 0 pods of deployment "web" unavailable']),
    ]);
    assert.equal(met.code, 0, met.err);
  });

  it('older and misleading wordings still pass, each with a note naming the sentence to use', () => {
    const f = feature([
      'Given a local cluster with 3 nodes in zones a, b and c',
      'Given job "migrate" from "scenarios/workloads/job.yaml" is ready',
      'Given deployment "web" from "scenarios/web" is ready',
      'Then for 5 s no pods of deployment "web" stay Pending',
      'And within 5 s pod "web-1" returns to the ready endpoints of service "web"',
      'Given the manifest "scenarios/failing/job-never.yaml" is applied',
      'Then job "once-more" has 2 failed pods',
    ]);
    const r = check([f, '--json']);
    const report = JSON.parse(r.out) as { ok: boolean; problems: unknown[]; notes: Array<{ line: number; message: string }> };
    const at = (line: number) => report.notes.filter((n) => n.line === line).map((n) => n.message).join(' | ');
    assert.match(at(3), /an older wording, still matched: say "Given a cluster with at least 3 Ready node\(s\) in zones a, b, c"/);
    assert.match(at(4), /a Job is "ready" once it has completed.*say "Given job "migrate" from "scenarios\/workloads\/job.yaml" has run to completion"/);
    assert.match(at(6), /say "for 5\.00 s none of the pods of deployment "web" is Pending"/);
    assert.match(at(7), /nothing earlier in its scenario takes pod "web-1" out of the endpoints.*becomes a ready endpoint of service "web"/);
    assert.match(at(9), /an older wording, still matched: say "Then job "once-more" now has 2 failed pod\(s\)"/);
    // web-1 is not an object of the scenario (a Deployment's pods have generated names): that one is a problem.
    assert.equal(r.code, 2);
    assert.deepEqual(report.problems.length, 1);
  });

  it('a StatefulSet member and a docstring Pod are objects of the scenario', () => {
    const f = feature([
      'Given statefulset "db" from "scenarios/workloads/statefulset.yaml" is ready',
      'When pod "db-1" fails readiness',
      'Then within 5 s pod "db-1" leaves the ready endpoints of service "db"',
    ]);
    assert.equal(check([f]).code, 0);
  });
});
