/**
 * Changes to what the harness did not create go through the ledger, not an in-process
 * cleanup: a node label and a node patch survive a SIGKILLed runner only in the ledger, and
 * `kubeproof clean` (a fresh process) puts the node back exactly — or reports a conflict and
 * leaves someone else's value. Pod kills are faults of the scenario (summary.json). And
 * `cluster down` signals no process that merely reuses a recorded pid.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, readFileSync, realpathSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LocalProvider, type LocalCluster } from '../../src/cluster/providers/local.js';
import { clusterDir } from '../../src/cluster/paths.js';
import { Kube } from '../../src/kube/client.js';
import { Informer } from '../../src/kube/informer.js';
import type { Condition } from '../../src/wait/until.js';
import { processAlive } from '../../src/host.js';
import { kubeproof, stopMidFault, writeFeature } from './harness.js';
import type { Node } from '../../src/kube/types.js';

const tmp = mkdtempSync(join(tmpdir(), 'kubeproof-shared-'));
const name = `sh-${randomBytes(2).toString('hex')}`;
let cluster: LocalCluster;
let kube: Kube;
let nodes: Informer<Node>;
let target: string[];

const kp = (args: string[]) => kubeproof(args).done;
/** `kubeproof clean` on the test's cluster; the context guard applies to clean as to run. */
const clean = () => kp(['clean', '--kubeconfig', cluster.kubeconfigPath, '--context', cluster.context, '--allow-context', cluster.context]);

const feature = (file: string, text: string) => writeFeature(tmp, file, text);

/** A node's labels and annotations, without what its controllers keep changing. */
async function metadataOf(node: string): Promise<{ labels: Record<string, string>; annotations: Record<string, string> }> {
  const n = await kube.get<Node>('Node', node);
  const annotations = { ...(n.metadata?.annotations ?? {}) };
  delete annotations['node.alpha.kubernetes.io/ttl'];
  return { labels: { ...(n.metadata?.labels ?? {}) }, annotations };
}

const HELD = `Feature: a node label and a node patch, held until the runner is stopped
  Scenario: shared nodes changed by steps
    Given deployment "web" from "scenarios/web" is ready
    When node "node-1" is labelled "kubeproof-test/held=yes"
    And node "node-2" is patched with:
      """
      metadata:
        labels:
          kubeproof-test/tier: held
        annotations:
          example.com/owner: chaos-test
      """
    Then for 10 min at least 1 pod of deployment "web" stay Ready
`;

function changesInPlace(): Condition {
  return {
    description: 'node-1 labelled, node-2 patched',
    sources: [nodes],
    evaluate: () => {
      const n = (x: string) => nodes.get(x);
      const state = [n('node-1')?.metadata?.labels?.['kubeproof-test/held'] === 'yes', n('node-2')?.metadata?.annotations?.['example.com/owner'] === 'chaos-test'];
      return { ok: state.every(Boolean), observed: `labelled ${state[0]}, patched ${state[1]}` };
    },
  };
}

describe('changes to shared objects go through the ledger', { timeout: 600_000 }, () => {
  before(async () => {
    cluster = await new LocalProvider().up({ name, nodes: 3, zones: ['a', 'b', 'c'], log: (l) => process.stderr.write(`  [cluster] ${l}\n`) });
    kube = Kube.fromKubeconfig(cluster.kubeconfigPath);
    nodes = new Informer<Node>(kube, 'Node');
    await nodes.start();
    target = ['--cluster', 'existing', '--kubeconfig', cluster.kubeconfigPath, '--allow-context', cluster.context, '--reports', join(tmp, 'reports')];
  });

  after(async () => {
    await nodes?.stop();
    await cluster?.down().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('SIGKILL after a node label and a node patch: `kubeproof clean` restores both nodes exactly', async () => {
    const before1 = await metadataOf('node-1');
    const before2 = await metadataOf('node-2');
    const r = await stopMidFault(kubeproof(['run', feature('held.feature', HELD), ...target]), changesInPlace(), 'SIGKILL', 90_000);
    assert.equal(r.signal, 'SIGKILL');
    assert.notDeepEqual(await metadataOf('node-1'), before1, 'the label was not really written');
    const c = await clean();
    assert.equal(c.code, 0, c.out);
    assert.match(c.out, /label of Node\/node-1: reverted/);
    assert.match(c.out, /patch of Node\/node-2: reverted/);
    assert.deepEqual(await metadataOf('node-1'), before1);
    assert.deepEqual(await metadataOf('node-2'), before2);
  });

  it('someone else changed the label after kubeproof: clean reports the conflict and leaves their value', async () => {
    const r = await stopMidFault(kubeproof(['run', feature('held.feature', HELD), ...target]), changesInPlace(), 'SIGKILL', 90_000);
    assert.equal(r.signal, 'SIGKILL');
    await kube.mergePatch('Node', 'node-1', undefined, { metadata: { labels: { 'kubeproof-test/held': 'someone-else' } } });
    const c = await clean();
    assert.equal(c.code, 0, c.out);
    assert.match(c.out, /label of Node\/node-1: conflict — .*kubeproof-test\/held is now "someone-else"/);
    assert.equal((await metadataOf('node-1')).labels['kubeproof-test/held'], 'someone-else');
    assert.equal((await metadataOf('node-2')).annotations['example.com/owner'], undefined, 'the patch without a conflict was still undone');
    assert.ok(!Object.keys((await metadataOf('node-1')).annotations).some((k) => k.startsWith('fault.kubeproof.io/')), 'the fault annotation stays behind');
    await kube.mergePatch('Node', 'node-1', undefined, { metadata: { labels: { 'kubeproof-test/held': null } } });
  });

  it('someone else changed a patched field after kubeproof: clean reports the patch conflict and leaves their value', async () => {
    const r = await stopMidFault(kubeproof(['run', feature('held.feature', HELD), ...target]), changesInPlace(), 'SIGKILL', 90_000);
    assert.equal(r.signal, 'SIGKILL');
    await kube.mergePatch('Node', 'node-2', undefined, { metadata: { annotations: { 'example.com/owner': 'someone-else' } } });
    const c = await clean();
    assert.equal(c.code, 0, c.out);
    assert.match(c.out, /patch of Node\/node-2: conflict — .*example\.com\/owner is now "someone-else" \(kubeproof set "chaos-test"\)/);
    assert.match(c.out, /label of Node\/node-1: reverted/);
    const after2 = await metadataOf('node-2');
    assert.equal(after2.annotations['example.com/owner'], 'someone-else', 'the undo overwrote a value someone else wrote');
    assert.equal(after2.labels['kubeproof-test/tier'], undefined, 'the patched label nobody else touched was not put back');
    assert.ok(!Object.keys(after2.annotations).some((k) => k.startsWith('fault.kubeproof.io/')), 'the fault annotation stays behind');
    await kube.mergePatch('Node', 'node-2', undefined, { metadata: { annotations: { 'example.com/owner': null } } });
  });

  it('SIGKILL after a scenario added a node: the node carries the run label, and `kubeproof clean` deletes it', async () => {
    const f = feature(
      'added.feature',
      `Feature: a node added for one scenario
  Scenario: a big node
    Given a KWOK node "big-1" with:
      | cpu  | 8      |
      | zone | a      |
    And deployment "web" from "scenarios/web" is ready
    Then for 10 min at least 1 pod of deployment "web" stay Ready
`,
    );
    const added: Condition = { description: 'node big-1 Ready', sources: [nodes], evaluate: () => ({ ok: Boolean(nodes.get('big-1')) && Boolean(nodes.get('big-1')?.metadata?.labels?.['kubeproof.io/run']), observed: nodes.get('big-1') ? 'there' : 'absent' }) };
    const r = await stopMidFault(kubeproof(['run', f, ...target]), added, 'SIGKILL', 90_000);
    assert.equal(r.signal, 'SIGKILL');
    assert.ok((await metadataOf('big-1')).labels['kubeproof.io/run'], 'the added node carries no run label');
    const c = await clean();
    assert.equal(c.code, 0, c.out);
    assert.match(c.out, /add node of Node\/big-1: reverted — deleted node big-1/);
    assert.equal(await kube.find<Node>('Node', 'big-1'), undefined, 'the added node outlived clean');
  });

  it('pod kills and node changes are faults of the scenario in summary.json', async () => {
    const f = feature(
      'kills.feature',
      `Feature: kills are faults
  Scenario: a pod kill and a label
    Given deployment "web" from "scenarios/web" is ready
    When 1 pod of deployment "web" is killed
    And node "node-3" is labelled "kubeproof-test/seen=yes"
    Then within 30 s deployment "web" has 3 ready replicas
`,
    );
    const reports = join(tmp, 'reports-kills');
    const r = await kp(['run', f, ...target.slice(0, -2), '--reports', reports]);
    assert.equal(r.code, 0, r.out);
    const summary = JSON.parse(readFileSync(realpathSync(join(reports, 'latest', 'summary.json')), 'utf8')) as { scenarios: Array<{ data?: { faults: Array<{ type: string; target: string; revert: string }> } }> };
    const faults = summary.scenarios.flatMap((s) => s.data?.faults ?? []);
    assert.deepEqual(
      faults.map((x) => [x.type, x.target, x.revert]),
      [
        ['kill pods', 'Deployment/web', 'none'],
        ['label', 'Node/node-3', 'reverted'],
      ],
    );
    assert.equal((await metadataOf('node-3')).labels['kubeproof-test/seen'], undefined);
  });

  it('a run in which no scenario passed tested nothing: exit 1, unless --allow-not-applicable', async () => {
    const f = feature(
      'nothing.feature',
      `Feature: nothing testable here
  Scenario: a container kill on a cluster without real containers
    Given deployment "web" from "scenarios/web" is ready
    When the container of 1 pod of deployment "web" is killed
`,
    );
    const r = await kp(['run', f, ...target]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /not applicable/);
    assert.match(r.out, /nothing was tested: 1 scenario\(s\), none passed \(not-applicable\)/);
    const ok = await kp(['run', f, ...target, '--allow-not-applicable']);
    assert.equal(ok.code, 0, ok.out);
  });

  it('cluster down leaves alone a process that reuses a recorded pid, and says so', async () => {
    const other = await new LocalProvider().up({ name: `${name}-p`, nodes: 1, log: () => undefined });
    // A process that is not the cluster's: its pid goes into a component's pid file, as after a reboot.
    const bystander = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      const pidFile = join(clusterDir(other.name), 'pids', 'kube-scheduler.pid');
      const real = Number((await readFile(pidFile, 'utf8')).trim());
      process.kill(real, 'SIGKILL');
      await writeFile(pidFile, `${bystander.pid}\n`);
      const r = await kp(['cluster', 'down', '--name', other.name]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, new RegExp(`kube-scheduler: pid ${bystander.pid} is no longer this cluster's process.*left alone`));
      assert.ok(processAlive(bystander.pid!), 'cluster down killed a process that was not the cluster\'s');
    } finally {
      bystander.kill('SIGKILL');
    }
  });
});
