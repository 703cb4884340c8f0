import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifests } from '../../src/workload/manifests.js';
import { BadInputError } from '../../src/errors.js';

describe('manifest parsing', () => {
  it('reads several documents with their line numbers', () => {
    const text = ['apiVersion: v1', 'kind: Service', 'metadata:', '  name: a', '---', '# comment', 'apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: b'].join('\n');
    const docs = parseManifests(text, 'x.yaml');
    assert.equal(docs.length, 2);
    assert.deepEqual(docs.map((d) => d.where.line), [1, 7]);
    assert.equal(docs[1]!.object.kind, 'Deployment');
  });
  it('offsets lines for docstrings inside a feature file', () => {
    const docs = parseManifests('apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n', 'f.feature', 40);
    assert.equal(docs[0]!.where.line, 40);
  });
  it('reports broken YAML with file and line', () => {
    try {
      parseManifests('apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n', 'bad.yaml', 10);
      assert.fail('no error');
    } catch (err) {
      assert.ok(err instanceof BadInputError);
      assert.equal(err.exitCode, 2);
      assert.equal(err.where?.file, 'bad.yaml');
      assert.ok((err.where?.line ?? 0) >= 10, `line ${err.where?.line}`);
    }
  });
  it('reports a document without kind or name', () => {
    assert.throws(() => parseManifests('apiVersion: v1\nmetadata:\n  name: x\n', 'y.yaml'), (err: unknown) => err instanceof BadInputError && /missing kind/.test(err.message) && err.where?.line === 1);
    assert.throws(() => parseManifests('apiVersion: v1\nkind: Pod\n', 'y.yaml'), /metadata.name/);
    assert.throws(() => parseManifests('# nothing\n', 'y.yaml'), /no Kubernetes object/);
  });
});
