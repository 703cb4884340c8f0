/**
 * Which directories are cgroup hierarchies is read from the mount table, not from a listing of
 * /sys/fs/cgroup (where plain directories can sit beside the hierarchies), and a teardown that
 * meets a directory outside every hierarchy leaves it with a note instead of failing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupHierarchies } from '../../src/cluster/real-node/host.js';
import { removeCgroupTree } from '../../src/cluster/real-node/teardown.js';

const V1 = `31 23 0:28 / /sys/fs/cgroup ro,relatime - tmpfs tmpfs ro,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 23 0:40 / /sys/fs/cgroup/net_cls\\040x rw,relatime - cgroup cgroup rw,net_cls
50 23 0:50 / /var/lib/docker rw,relatime - ext4 /dev/vda rw
`;

describe('cgroup hierarchies', () => {
  it('are the cgroup mounts under /sys/fs/cgroup (v1), not every directory there', async () => {
    assert.deepEqual(await cgroupHierarchies(V1), ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/net_cls x', '/sys/fs/cgroup/systemd']);
  });

  it('are the v2 root alone on a unified host', async () => {
    assert.deepEqual(await cgroupHierarchies('25 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n'), ['/sys/fs/cgroup']);
  });

  it('this machine has some, read from its own mount table', async () => {
    assert.ok((await cgroupHierarchies()).length > 0);
  });

  it('a directory outside every hierarchy is left with a note, not a failure; one inside is removed deepest first', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'kubeproof-cg-'));
    const plain = join(tmp, 'cpu,cpuacct', 'k8s.io');
    await mkdir(plain, { recursive: true });
    const notes: string[] = [];
    await removeCgroupTree(plain, ['/sys/fs/cgroup/cpu'], (n) => notes.push(n));
    assert.ok(existsSync(plain));
    assert.match(notes.join('\n'), /not in a cgroup hierarchy/);
    const hierarchy = join(tmp, 'fake-hierarchy');
    const pods = join(hierarchy, 'k8s.io');
    await mkdir(join(pods, 'pod-a', 'ctr'), { recursive: true });
    await removeCgroupTree(pods, [hierarchy], (n) => notes.push(n));
    assert.equal(existsSync(pods), false);
  });
});
