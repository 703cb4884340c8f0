/**
 * The myths of features/failing-containers.feature, failed-rollouts.feature and
 * eviction-answers.feature asserted as claims, on a real control plane with KWOK's failing
 * containers: each must fail, saying what it saw — and a true claim beside them passes.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LocalProvider, type LocalCluster } from '../../src/cluster/providers/local.js';
import { kubeproof } from './harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'kubeproof-myths-'));
const name = `myth-${randomBytes(2).toString('hex')}`;
let cluster: LocalCluster;

const FEATURE = `Feature: myths asserted
  Background:
    Given a cluster with at least 3 Ready nodes in zones a, b and c

  Scenario: myth: backoffLimit 3 with OnFailure makes 4 failed pods
    Given the manifest "scenarios/failing/job-onfailure.yaml" is applied
    Then job "retry-in-place" fails with BackoffLimitExceeded within 20 s
    And job "retry-in-place" now has 4 failed pods

  Scenario: myth: a Job that keeps failing completes in the end
    Given the manifest "scenarios/failing/job-onfailure.yaml" is applied
    Then job "retry-in-place" completes within 60 s

  Scenario: myth: a crash-looping pod leaves Running
    Given the manifest "scenarios/failing/crashloop.yaml" is applied
    Then within 10 s 2 pods of deployment "crashy" are waiting with reason "CrashLoopBackOff"
    And within 5 s no pods of deployment "crashy" are Running

  Scenario: myth: a missed progress deadline rolls back, so the rollout ends
    Given deployment "checkout" from "scenarios/rollout/checkout.yaml" is ready
    When deployment "checkout" rolls out a version that never becomes ready
    Then the rollout of deployment "checkout" reports ProgressDeadlineExceeded within 15 s
    And within 5 s the rollout of deployment "checkout" completes

  Scenario: myth: the budget keeps 2 pods serving through a rollout
    Given deployment "catalog" from "scenarios/rollout/catalog.yaml" is ready
    When deployment "catalog" rolls out a version that never becomes ready
    Then for 3 s the old pods of deployment "catalog" keep at least 2 ready endpoints in service "catalog"

  Scenario: myth: with two budgets, the one that allows decides
    Given deployment "shared" from "scenarios/evictions/shared.yaml" is ready
    Then evicting a Ready pod of deployment "shared" is answered with 201

  Scenario: fact: with two budgets, the eviction is answered 500
    Given deployment "shared" from "scenarios/evictions/shared.yaml" is ready
    Then evicting a Ready pod of deployment "shared" is answered with 500
`;

interface Summary {
  scenarios: Array<{ name: string; status: string; error?: string }>;
}

describe('myths asserted on a real control plane fail with what was seen', { timeout: 900_000 }, () => {
  before(async () => {
    cluster = await new LocalProvider().up({ name, nodes: 3, zones: ['a', 'b', 'c'], log: (l) => process.stderr.write(`  [cluster] ${l}\n`) });
  });

  after(async () => {
    await cluster?.down();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('reports each claim as it is', async () => {
    const feature = join(tmp, 'myths.feature');
    writeFileSync(feature, FEATURE);
    const reports = join(tmp, 'reports');
    const r = await kubeproof(['run', feature, '--cluster', 'existing', '--kubeconfig', cluster.kubeconfigPath, '--allow-context', cluster.context, '--reports', reports]).done;
    assert.equal(r.code, 1, r.out);
    const summary = JSON.parse(readFileSync(join(reports, 'latest', 'summary.json'), 'utf8')) as Summary;
    const failed = (prefix: string, error: RegExp) => {
      const s = summary.scenarios.find((x) => x.name.startsWith(prefix));
      assert.ok(s, `no scenario "${prefix}…" in ${r.out}`);
      assert.equal(s.status, 'failed', `${prefix}: ${s.error ?? r.out}`);
      assert.match(s.error ?? '', error, prefix);
    };
    failed('myth: backoffLimit 3', /job retry-in-place now has 4 failed pod\(s\)[\s\S]*succeeded 0, failed 1, .*restartPolicy OnFailure; .*Failed=True \(BackoffLimitExceeded/);
    failed('myth: a Job that keeps failing', /job retry-in-place finished otherwise: .*Failed=True \(BackoffLimitExceeded/);
    failed('myth: a crash-looping pod', /waiting for: 0 Running pod\(s\) of deployment crashy\n\s+last seen: 2 Running: crashy-/);
    failed('myth: a missed progress deadline', /the rollout of deployment checkout is complete[\s\S]*1 updated, 3 available, 4 total of 3/);
    failed('myth: the budget keeps 2 pods', /1 old pod\(s\) ready endpoints: catalog-/);
    failed('myth: with two budgets', /expected 201\/200 \(allowed\), answered 500\b.*more than one PodDisruptionBudget.*selected by PodDisruptionBudget shared-by-app, shared-by-tier/);
    const fact = summary.scenarios.find((x) => x.name.startsWith('fact: with two budgets'));
    assert.equal(fact?.status, 'passed', fact?.error);
  });
});
