/**
 * src/run/pickles.ts selects the scenarios cucumber would run: for each way of naming them
 * (a directory, a file, `file:line` on a scenario and on an example row, a glob, tags, names),
 * its pickles are the ones cucumber's own `loadSources` plans, so `check` and the run's
 * pre-check judge exactly what will run. Parse errors and missing paths are problems.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSources } from '@cucumber/cucumber/api';
import { pickFeatures, linesOf, type SourceSelection } from '../../src/run/pickles.js';

let cwd: string;

const A = `@a
Feature: a
  Scenario: one
    Given x

  @slow
  Scenario Outline: many <n>
    Given y <n>

    Examples:
      | n |
      | 1 |
      | 2 |

  Rule: r
    Scenario: in a rule
      Given z
`;
const B = `Feature: b
  Background:
    Given bg

  @slow
  Scenario: two
    Given w
`;

async function cucumbers(sel: SourceSelection): Promise<string[]> {
  const r = await loadSources({ paths: sel.paths, defaultDialect: 'en', names: sel.names ?? [], tagExpression: sel.tagExpression ?? '', order: 'defined' }, { cwd });
  return r.plan.map((p) => `${p.uri}:${p.location.line} ${p.name}`).sort();
}

async function ours(sel: SourceSelection): Promise<string[]> {
  const r = await pickFeatures(sel, cwd);
  assert.deepEqual(r.errors, []);
  // A pickle's line is its last AST node's: the example row for an outline, else the scenario.
  const lines = new Map(r.documents.flatMap((d) => [...linesOf(d)]));
  return r.pickles.map((p) => `${p.uri}:${lines.get(p.astNodeIds.at(-1)!)} ${p.name}`).sort();
}

describe('choosing the scenarios as cucumber does', () => {
  before(() => {
    cwd = mkdtempSync(join(tmpdir(), 'kubeproof-pickles-'));
    mkdirSync(join(cwd, 'features/sub'), { recursive: true });
    writeFileSync(join(cwd, 'features/a.feature'), A);
    writeFileSync(join(cwd, 'features/sub/b.feature'), B);
    writeFileSync(join(cwd, 'features/notes.txt'), 'not a feature');
  });
  after(() => rmSync(cwd, { recursive: true, force: true }));

  const cases: Array<[string, SourceSelection]> = [
    ['a directory', { paths: ['features'] }],
    ['a directory with a slash', { paths: ['features/'] }],
    ['a file', { paths: ['features/sub/b.feature'] }],
    ['a scenario line', { paths: ['features/a.feature:3'] }],
    ['an example row', { paths: ['features/a.feature:13'] }],
    ['two lines', { paths: ['features/a.feature:3:12'] }],
    ['a glob', { paths: ['features/**/*.feature'] }],
    ['a glob in one folder', { paths: ['features/*.feature'] }],
    ['tags', { paths: ['features'], tagExpression: '@slow and not @a' }],
    ['an inherited tag', { paths: ['features'], tagExpression: '@a' }],
    ['names', { paths: ['features'], names: ['^many'] }],
  ];
  for (const [what, sel] of cases) {
    it(`${what}: the same scenarios as cucumber's plan`, async () => {
      const want = await cucumbers(sel);
      assert.ok(want.length > 0, 'the case selects nothing: it proves nothing');
      assert.deepEqual(await ours(sel), want);
    });
  }

  it('a path that does not exist, and a feature that does not parse, are problems with where', async () => {
    writeFileSync(join(cwd, 'features/bad.feature'), 'Feature: bad\n  Scenario: x\n    Given a\n  Nonsense here\n');
    const r = await pickFeatures({ paths: ['features/bad.feature', 'features/missing'] }, cwd);
    rmSync(join(cwd, 'features/bad.feature'));
    assert.deepEqual(r.errors.map((e) => [e.uri, e.line]), [['features/missing', 0], ['features/bad.feature', 4]]);
  });
});
