/** Local images: a docker-archive that names its image, identical bytes for identical inputs. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packImage, imageNamesInArchive, TESTAPP_IMAGE } from '../../src/cluster/build/images.js';

describe('local images', () => {
  it('packs a named single-layer docker-archive, byte for byte reproducible', async () => {
    const a = await packImage(TESTAPP_IMAGE, Buffer.from('#!binary'));
    const b = await packImage(TESTAPP_IMAGE, Buffer.from('#!binary'));
    assert.ok(a.equals(b), 'same inputs, different bytes');
    const dir = await mkdtemp(join(tmpdir(), 'kubeproof-images-'));
    try {
      await writeFile(join(dir, 'x.tar'), a);
      assert.deepEqual(await imageNamesInArchive(join(dir, 'x.tar')), { format: 'docker-archive', names: [TESTAPP_IMAGE.ref] });
      await writeFile(join(dir, 'bad.tar'), Buffer.alloc(1024));
      await assert.rejects(imageNamesInArchive(join(dir, 'bad.tar')), /not an image archive|not a readable/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
