/** Real-node pieces that need no root: rule splitting, names, the configs' load-bearing settings. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { splitRule, bridgeName, gatewayOf } from '../../src/cluster/real-node/network.js';
import { containerdConfig } from '../../src/cluster/real-node/containerd.js';
import { kubeletConfiguration, kubeProxyConfiguration } from '../../src/cluster/real-node/node.js';
import { realNodeLayout, type RealNodeRecord } from '../../src/cluster/real-node/layout.js';
import { FAST_TIMINGS } from '../../src/cluster/providers/provider.js';

const record: RealNodeRecord = {
  cluster: 'rn-unit',
  nodeName: 'real-1',
  nodeIP: '10.244.7.1',
  bridge: bridgeName('rn-unit'),
  podSubnet: '10.244.7.0/24',
  cniNetwork: 'kubeproof-rn-unit',
  createdHostPaths: [],
  createdCgroups: [],
  sysctls: {},
  chainsBefore: {},
};

describe('real node', () => {
  it('splits iptables-save rules with quoted comments', () => {
    assert.deepEqual(splitRule('-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'), [
      '-A', 'OUTPUT', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES',
    ]);
  });

  it('names a bridge within the kernel\'s 15 characters, gateway .1', () => {
    assert.ok(bridgeName('a-very-long-cluster-name-of-forty-chars-x').length <= 15);
    assert.equal(gatewayOf('10.244.7.0/24'), '10.244.7.1');
  });

  it('keeps containerd inside the cluster dir and uses the local pause image', () => {
    const l = realNodeLayout('rn-unit');
    const toml = containerdConfig(l, '/usr/lib/cni', true);
    for (const p of [l.containerd.root, l.containerd.state, l.containerd.socket, l.containerd.runcRoot, l.cni.confDir]) assert.ok(toml.includes(JSON.stringify(p)), p);
    assert.match(toml, /sandbox_image = "kubeproof\.local\/pause:1"/);
    assert.match(toml, /restrict_oom_score_adj = true/);
  });

  it('configures the kubelet for cgroup v1 hosts, no eviction, heartbeats as the cluster\'s', () => {
    const c = kubeletConfiguration(realNodeLayout('rn-unit'), record, '/pki', FAST_TIMINGS) as Record<string, unknown>;
    assert.equal(c.failCgroupV1, false);
    assert.equal(c.address, '10.244.7.1');
    assert.equal(c.nodeStatusUpdateFrequency, `${FAST_TIMINGS.nodeHeartbeatSeconds}s`);
    assert.equal(c.imageGCHighThresholdPercent, 100);
    const p = kubeProxyConfiguration(record, '/kubeconfig') as Record<string, unknown>;
    assert.equal(p.mode, 'iptables');
    assert.deepEqual((p.iptables as Record<string, unknown>).localhostNodePorts, false);
  });
});
