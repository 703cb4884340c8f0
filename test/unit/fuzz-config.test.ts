/**
 * Bad kubeproof.config.json, generated (fast-check): whatever the file holds,
 * loadProjectConfig returns a config whose every field has the right shape, or refuses it as
 * bad input naming the file (and the line, for a JSON syntax error) — never another exception.
 * Context patterns from the file are matched literally except `*`, whatever they contain.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadProjectConfig, contextMatches } from '../../src/cluster/providers/guard.js';
import { BadInputError } from '../../src/errors.js';
import { jsonErrorOffset } from '../../src/json-syntax.js';

const RUNS = Number(process.env.KUBEPROOF_FUZZ_RUNS ?? 300);
let dir: string;

/** Configs near the real shape: right and wrong types in each field, extra fields. */
const nearConfig = fc.record(
  {
    allowContexts: fc.oneof(fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }), fc.anything()),
    nodeCommands: fc.oneof(fc.record({ stop: fc.oneof(fc.constant('ssh {node} sudo systemctl stop kubelet'), fc.anything()), start: fc.oneof(fc.constant('ssh {node} start'), fc.string()) }, { requiredKeys: [] }), fc.anything()),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);
/** Edits that break JSON: a character dropped, a comma, a brace, a comment, a BOM. */
const edit = fc.tuple(fc.nat(), fc.constantFrom('', ',', '}', '{', '"', '\n', '//', '/*', "'", '\uFEFF', 'NaN', '\t'));
const configText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.json(),
  nearConfig.map((c) => JSON.stringify(c, null, 2) ?? ''),
  fc.tuple(nearConfig, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([c, edits]) => {
    let t = JSON.stringify(c, null, 2) ?? '';
    for (const [at, put] of edits) {
      const i = at % (t.length + 1);
      t = `${t.slice(0, i)}${put}${t.slice(i + (put === '' ? 1 : 0))}`;
    }
    return t;
  }),
);

let n = 0;
async function loadChecked(text: string): Promise<void> {
  const file = join(dir, `config-${n++}.json`);
  writeFileSync(file, text);
  try {
    const c = await loadProjectConfig(dir, file);
    assert.ok(Array.isArray(c.allowContexts) && c.allowContexts.every((p) => typeof p === 'string' && p.length > 0), JSON.stringify(c));
    if (c.nodeCommands) assert.ok(c.nodeCommands.stop.includes('{node}') && c.nodeCommands.start.includes('{node}'));
  } catch (err) {
    if (!(err instanceof BadInputError)) throw new Error(`not a BadInputError for ${JSON.stringify(text)}: ${(err as Error)?.stack ?? err}`);
    assert.equal(err.where?.file, file);
    let syntax = true;
    try {
      JSON.parse(text.replace(/^\uFEFF/, ''));
      syntax = false;
    } catch {
      // a syntax error: it has a line
    }
    const lines = text.split(/\r\n|\r|\n/).length;
    if (syntax) assert.ok(err.where?.line !== undefined && err.where.line >= 1 && err.where.line <= lines, `${JSON.stringify(text)}: line ${err.where?.line} of ${lines}: ${err.message}`);
  }
}

describe('kubeproof.config.json, generated', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubeproof-fuzz-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('any file content is a well-formed config or bad input naming the file (and the line of a syntax error)', async () => {
    await fc.assert(fc.asyncProperty(configText, loadChecked), { numRuns: RUNS * 2 });
  });

  it("the syntax scan agrees with JSON.parse: valid exactly when it parses, and on V8's line when V8 gives a position", () => {
    fc.assert(
      fc.property(configText, (text) => {
        let parsed = true;
        let position: number | undefined;
        try {
          JSON.parse(text);
        } catch (err) {
          parsed = false;
          const m = (err as Error).message.match(/at position (\d+)/);
          position = m ? Number(m[1]) : undefined;
        }
        const offset = jsonErrorOffset(text);
        assert.equal(offset === undefined, parsed, `${JSON.stringify(text)}: scan says ${offset}`);
        // V8 points into a broken token, the scan at its start: the same line either way (a JSON token holds no line break).
        const lineAt = (o: number) => text.slice(0, o).split(/\r\n|\r|\n/).length;
        if (position !== undefined) assert.equal(lineAt(offset!), lineAt(position), `${JSON.stringify(text)}: scan at ${offset}, V8 at ${position}`);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it("a byte-order mark an editor put first is not part of the JSON", async () => {
    const file = join(dir, 'bom.json');
    writeFileSync(file, '\uFEFF{"allowContexts": ["staging-*"]}');
    assert.deepEqual(await loadProjectConfig(dir, file), { allowContexts: ['staging-*'] });
  });

  it('a context pattern matches itself, and is literal except for *', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), (pattern, context) => {
        assert.equal(contextMatches(pattern, pattern), true);
        if (!pattern.includes('*')) assert.equal(contextMatches(pattern, context), pattern === context);
        else assert.equal(contextMatches(pattern, `${pattern.replaceAll('*', '')}`), true);
      }),
      { numRuns: RUNS * 3 },
    );
  });
});
