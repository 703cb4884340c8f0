/**
 * Checks that can fail, on a real control plane: each scenario below makes a claim, true or
 * false, and the run must report it as it is — DaemonSet pods counted as unavailable, an
 * eviction delay judged once the eviction happened, an eviction check without a readiness
 * break, a pod that never existed not "leaving" a Service, and a DaemonSet "ready" only once
 * its pods are in the scenario's watch (the kill right after it needs them).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LocalProvider, type LocalCluster } from '../../src/cluster/providers/local.js';
import { kubeproof } from './harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'kubeproof-checks-'));
const name = `chk-${randomBytes(2).toString('hex')}`;
let cluster: LocalCluster;

const FEATURE = `Feature: checks that can fail
  Background:
    Given a local cluster with 3 nodes in zones a, b and c

  Scenario: every pod of a DaemonSet killed at once is counted unavailable
    Given daemonset "agent" from "scenarios/workloads/daemonset.yaml" is ready
    When the pods matching "app=agent" are killed
    Then at one moment at least 3 pods of daemonset "agent" were unavailable
    And within 30 s 3 pods of daemonset "agent" are Ready

  Scenario: the false claim that no DaemonSet pod was unavailable fails
    Given daemonset "agent" from "scenarios/workloads/daemonset.yaml" is ready
    When 1 pod of daemonset "agent" is killed
    Then at no moment were more than 0 pods of daemonset "agent" unavailable

  Scenario: an eviction delay is judged once the pods have left, up to its bound
    Given the manifests in "scenarios/taints" are applied
    And within 30 s 2 pods of deployment "tolerates-5s" are Ready on node "node-1"
    When node "node-1" is tainted "dedicated=db:NoExecute"
    Then the pods of deployment "tolerates-5s" left node "node-1" between 4 s and 12 s after the taint

  Scenario: a budget of minAvailable = replicas refuses an eviction after a drain, no readiness broken
    Given deployment "ledger" from "scenarios/drain/ledger.yaml" is ready
    When node "node-1" is drained, giving up after 3 s
    Then evicting a Ready pod of deployment "ledger" is refused with 429

  Scenario: a pod that does not exist does not leave a Service
    Given deployment "web" from "scenarios/web" is ready
    Then within 2 s pod "nope" leaves the ready endpoints of service "web"
`;

interface Summary {
  scenarios: Array<{ name: string; status: string; error?: string }>;
}

describe('checks that can fail (a real control plane, KWOK nodes)', { timeout: 900_000 }, () => {
  before(async () => {
    cluster = await new LocalProvider().up({ name, nodes: 3, zones: ['a', 'b', 'c'], log: (l) => process.stderr.write(`  [cluster] ${l}\n`) });
  });

  after(async () => {
    await cluster?.down();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('reports each claim as it is', async () => {
    const feature = join(tmp, 'checks.feature');
    writeFileSync(feature, FEATURE);
    const reports = join(tmp, 'reports');
    const r = await kubeproof(['run', feature, '--cluster', 'existing', '--kubeconfig', cluster.kubeconfigPath, '--allow-context', cluster.context, '--reports', reports]).done;
    assert.equal(r.code, 1, r.out);
    const summary = JSON.parse(readFileSync(join(reports, 'latest', 'summary.json'), 'utf8')) as Summary;
    const by = (prefix: string) => {
      const s = summary.scenarios.find((x) => x.name.startsWith(prefix));
      assert.ok(s, `no scenario "${prefix}…" in ${r.out}`);
      return s;
    };
    assert.equal(by('every pod of a DaemonSet').status, 'passed', by('every pod of a DaemonSet').error);
    const falseClaim = by('the false claim');
    assert.equal(falseClaim.status, 'failed', r.out);
    assert.match(falseClaim.error ?? '', /1 pods of daemonset agent were unavailable at once, .* after the first fault/);
    assert.equal(by('an eviction delay').status, 'passed', by('an eviction delay').error);
    assert.equal(by('a budget of minAvailable').status, 'passed', by('a budget of minAvailable').error);
    const nope = by('a pod that does not exist');
    assert.equal(nope.status, 'failed', r.out);
    assert.match(nope.error ?? '', /timed out after 2(?:\.0+)? s waiting for: pod\(s\) nope are no longer ready endpoints of service web\n\s+last seen: pod\(s\) nope do not exist/);
  });
});
