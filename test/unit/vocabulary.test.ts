/**
 * Every step's example is a line of a shipped feature, so CI runs it (and the runner's
 * dry run proves it matches exactly one step): `kubeproof steps` cannot show a stale example.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/project.js';
import { loadVocabulary } from '../../src/cli/vocabulary-loader.js';

const vocabulary = await loadVocabulary();

function featureSteps(): Set<string> {
  const dir = join(projectRoot, 'features');
  const lines = new Set<string>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.feature'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const m = line.trim().match(/^(Given|When|Then|And|But|\*) (.*)$/);
      if (m) lines.add(m[2]!);
    }
  }
  return lines;
}

describe('the step vocabulary', () => {
  it('has steps', () => {
    assert.ok(vocabulary.length >= 30, `only ${vocabulary.length} steps`);
  });
  it('gives each step an example that a shipped feature runs', () => {
    const used = featureSteps();
    const missing = vocabulary.filter((v) => !used.has(v.example.replace(/^(Given|When|Then) /, '')));
    assert.deepEqual(missing.map((m) => m.example), []);
  });
  it('has no two steps with the same expression', () => {
    const seen = vocabulary.map((v) => v.expression);
    assert.equal(new Set(seen).size, seen.length);
  });
});
