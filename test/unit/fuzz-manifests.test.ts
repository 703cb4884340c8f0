/**
 * Bad manifests, generated (fast-check): whatever text a manifest file or docstring holds,
 * parseManifests returns objects with apiVersion, kind and a name, each with its file:line, or
 * refuses with a BadInputError at a line of that text — never another exception. And
 * applyManifests applies nothing of a batch the API server refuses any part of: every
 * document is dry-run first, the refusal is bad input at the document's file:line.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import YAML from 'yaml';
import { parseManifests, applyManifests, type LocatedManifest } from '../../src/workload/manifests.js';
import { BadInputError } from '../../src/errors.js';
import { ApiError } from '../../src/kube/errors.js';
import type { Kube } from '../../src/kube/client.js';
import type { Manifest } from '../../src/kube/types.js';

const RUNS = Number(process.env.KUBEPROOF_FUZZ_RUNS ?? 300);

/** Parse, and check the answer's shape: manifests each at a line of the text, or bad input at one. */
function parseChecked(text: string, firstLine: number): LocatedManifest[] | BadInputError {
  const lines = text.split(/\r\n|\r|\n/).length;
  const inText = (line: number | undefined) => line !== undefined && Number.isInteger(line) && line >= firstLine && line < firstLine + lines;
  try {
    const out = parseManifests(text, 'scenarios/fuzz.yaml', firstLine);
    assert.ok(out.length > 0, 'no manifest and no error');
    for (const m of out) {
      assert.equal(m.where.file, 'scenarios/fuzz.yaml');
      assert.ok(inText(m.where.line), `line ${m.where.line} outside ${firstLine}..${firstLine + lines - 1}`);
      assert.equal(typeof m.object.apiVersion, 'string');
      assert.equal(typeof m.object.kind, 'string');
      assert.ok(m.object.metadata?.name || (m.object.metadata as { generateName?: string }).generateName);
    }
    return out;
  } catch (err) {
    if (!(err instanceof BadInputError)) throw new Error(`not a BadInputError for ${JSON.stringify(text)}: ${(err as Error)?.stack ?? err}`);
    assert.equal(err.where?.file, 'scenarios/fuzz.yaml');
    assert.ok(inText(err.where?.line), `${JSON.stringify(text)}: error line ${err.where?.line} outside ${firstLine}..${firstLine + lines - 1}: ${err.message}`);
    assert.doesNotMatch(err.message, /\n\s+at /, 'a stack trace in the message');
    return err;
  }
}

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
/** Manifests as people write them, and as they get them wrong: fields missing, of the wrong type, extra. */
const manifest = fc.record(
  {
    apiVersion: fc.oneof(fc.constantFrom('v1', 'apps/v1', 'policy/v1'), fc.anything()),
    kind: fc.oneof(fc.constantFrom('ConfigMap', 'Deployment', 'Pod', 'List', 'Service'), fc.anything()),
    metadata: fc.oneof(fc.record({ name }, { requiredKeys: [] }), fc.record({ generateName: name }), fc.anything()),
    spec: fc.anything(),
    items: fc.array(fc.anything(), { maxLength: 3 }),
  },
  { requiredKeys: [] },
);
/** Edits that break YAML: a character dropped, a tab or a quote put in, a line indented. */
const edit = fc.tuple(fc.nat(), fc.constantFrom('', '\t', '"', "'", ':', '- ', '  ', '\n', '{', ']', '---\n', '&a ', '*a', '!!binary ', '%YAML 1.2\n', '\u0000'));
const yamlText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.array(manifest, { minLength: 1, maxLength: 3 }).map((docs) => docs.map((d) => YAML.stringify(d)).join('---\n')),
  fc.tuple(fc.array(manifest, { minLength: 1, maxLength: 3 }), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([docs, edits]) => {
    let t = docs.map((d) => YAML.stringify(d)).join('---\n');
    for (const [at, put] of edits) {
      const i = at % (t.length + 1);
      t = `${t.slice(0, i)}${put}${t.slice(i + (put === '' ? 1 : 0))}`;
    }
    return t;
  }),
);

describe('manifests, generated', () => {
  it('any text parses to located manifests or is refused as bad input at one of its lines', () => {
    fc.assert(
      fc.property(yamlText, fc.integer({ min: 1, max: 500 }), (text, firstLine) => {
        parseChecked(text, firstLine);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('a batch the API server refuses a part of applies nothing, and says which document (file:line)', async () => {
    const valid = (i: number): Manifest => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { a: String(i) } } as Manifest);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.nat(), fc.constantFrom(400, 404, 415, 422), async (count, which, status) => {
        const docs = Array.from({ length: count }, (_, i) => valid(i));
        const text = docs.map((d) => YAML.stringify(d)).join('---\n');
        const located = parseManifests(text, 'scenarios/batch.yaml');
        const refused = which % count;
        const applied: string[] = [];
        const kube = {
          apply: async (obj: Manifest, opts: { dryRun?: boolean } = {}) => {
            if (obj.metadata?.name === `cm-${refused}`) throw new ApiError(status, 'Invalid', `ConfigMap "cm-${refused}" is invalid: data: Invalid value`);
            if (!opts.dryRun) applied.push(obj.metadata!.name!);
            return obj;
          },
        } as unknown as Kube;
        await assert.rejects(applyManifests(kube, located, { namespace: 'kp-fuzz', runId: 'r' }), (err: unknown) => {
          assert.ok(err instanceof BadInputError, String(err));
          assert.equal(err.where?.file, 'scenarios/batch.yaml');
          assert.equal(err.where?.line, located[refused]!.where.line);
          return true;
        });
        assert.deepEqual(applied, [], 'a document was applied from a batch the server refused');
      }),
      { numRuns: RUNS },
    );
  });
});
