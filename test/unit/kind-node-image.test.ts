/** The offline kind node image's recipe: kind's storage manifest with our images, flannel without the backends it cannot build. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kindStorageManifest } from '../../src/cluster/build/kind-node-image.js';
import { KIND_CLI_SET_ID, KIND_TOOLS_SET_ID, withoutBlankImports } from '../../src/cluster/build/kind-tools.js';
import { VERSION_SET_ID } from '../../src/cluster/build/binaries.js';

describe('kind node image', () => {
  it("takes kind's storage manifest from its Go source, with kubeproof's image names", () => {
    const go = [
      'const storageProvisionerImage = "docker.io/kindest/local-path-provisioner:v1"',
      'const defaultStorageManifest = `',
      'image: ` + storageProvisionerImage + `',
      'helper: ` + storageHelperImage + `',
      '`',
      '',
      'func other() {}',
    ].join('\n');
    assert.equal(kindStorageManifest(go, { provisioner: 'kubeproof.local/lpp:v0', helper: 'kubeproof.local/helper:x' }), '\nimage: kubeproof.local/lpp:v0\nhelper: kubeproof.local/helper:x\n');
    assert.throws(() => kindStorageManifest('const defaultStorageManifest = `a` + somethingElse', { provisioner: 'p', helper: 'h' }), /somethingElse/);
    assert.throws(() => kindStorageManifest('package nodeimage', { provisioner: 'p', helper: 'h' }), /layout changed/);
  });

  it('drops exactly the named blank imports, and says so when one is not there', () => {
    const main = 'import (\n\t_ "x/backend/hostgw"\n\t_ "x/backend/udp"\n\t_ "x/backend/udp2"\n)\n';
    assert.equal(withoutBlankImports(main, ['x/backend/udp'], 'flannel'), 'import (\n\t_ "x/backend/hostgw"\n\t_ "x/backend/udp2"\n)\n');
    assert.throws(() => withoutBlankImports(main, ['x/backend/vxlan'], 'flannel'), /no blank import of x\/backend\/vxlan/);
  });

  it("has cache ids of its own, apart from the local cluster's binaries", () => {
    assert.match(KIND_CLI_SET_ID, /^kind-\d+\.\d+\.\d+_[0-9a-f]{8}$/);
    assert.match(KIND_TOOLS_SET_ID, /^k8s-[\d.]+_crictl-[\d.]+_coredns-[\d.]+_flannel-[\d.]+_lpp-[\d.]+_[0-9a-f]{8}$/);
    assert.notEqual(KIND_TOOLS_SET_ID, VERSION_SET_ID);
  });
});
