/**
 * "Given a real node" not applicable: the reason names the real cause and its fix — the
 * packages this machine lacks and the one command that installs them (not "run with
 * --real-nodes 1", which would not help), another cluster holding the one real node, or a
 * running cluster started without one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { noRealNodeReason } from '../../src/scenario/requirements.js';
import { installHint, type HostRequirement } from '../../src/cluster/real-node/host.js';

const missing: HostRequirement[] = [
  { name: 'containerd', ok: false, detail: 'missing', fix: 'apt-get install -y containerd' },
  { name: 'ctr', ok: false, detail: 'missing', fix: 'apt-get install -y containerd' },
  { name: 'runc', ok: false, detail: 'missing', fix: 'apt-get install -y runc' },
  { name: 'CNI plugins', ok: false, detail: 'missing (/usr/lib/cni/bridge, /opt/cni/bin/bridge)', fix: 'apt-get install -y containernetworking-plugins' },
];

describe('why a run has no real node', () => {
  it('missing packages: which, and the one command that installs them', () => {
    const why = noRealNodeReason('run-1', { missing, install: installHint(missing) });
    assert.match(why, /this machine lacks containerd \(missing\), ctr \(missing\), runc \(missing\), CNI plugins/);
    assert.match(why, /install: apt-get install -y containerd runc containernetworking-plugins \(/);
    assert.doesNotMatch(why, /--real-nodes/);
  });

  it('not root as well: the install command, then root', () => {
    const notRoot: HostRequirement = { name: 'root', ok: false, detail: 'running as uid 1000', fix: 'run as root (sudo)' };
    assert.equal(installHint([notRoot, ...missing.slice(2, 3)]), 'apt-get install -y runc; then run kubeproof as root');
  });

  it('another cluster holds the one real node, or this cluster was started without one', () => {
    assert.match(noRealNodeReason('run-1', { missing: [], install: '' }, 'dev'), /cluster "dev" holds this machine's one real node: `kubeproof cluster down --name dev` frees it/);
    assert.match(noRealNodeReason('mine', { missing: [], install: '' }), /"mine" was started without one: `kubeproof cluster up --name mine --real-nodes 1`/);
  });
});
