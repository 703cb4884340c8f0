/**
 * The shape the README's architecture section promises, checked on the source: no module
 * outside the providers asks which kind of cluster it runs on (they ask the cluster's parts),
 * only src/kube imports @kubernetes/client-node, the ledger imports no provider, and src/ has
 * no import cycle (type-only imports aside: they vanish at run time).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { projectRoot as root } from '../../src/project.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const rel = (p: string) => relative(root, p);
const src = sources(join(root, 'src'));
const steps = sources(join(root, 'steps'));

/** Runtime imports of a file (not `import type`, not `import { type X }` only), resolved to .ts paths inside the project. */
export function runtimeImports(file: string, text = readFileSync(file, 'utf8')): string[] {
  const out: string[] = [];
  const re = /(?:^|\n)\s*import\s+(type\s+)?([^'"]*?)\s*from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"](\.[^'"]+)['"]/g;
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4] ?? m[5];
    if (!spec) continue;
    if (m[1]) continue; // import type …
    const names = m[2] ?? '';
    const braces = /^\{([^}]*)\}$/.exec(names.trim());
    if (braces && braces[1]!.split(',').every((n) => !n.trim() || n.trim().startsWith('type '))) continue;
    out.push(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
  }
  return out;
}

export function cycles(files: string[]): string[][] {
  const graph = new Map(files.map((f) => [f, runtimeImports(f).filter((d) => files.includes(d))]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === 'open') found.push([...stack.slice(stack.indexOf(d)), d].map(rel));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return found;
}

describe('architecture', () => {
  it('nothing outside src/cluster/providers compares the cluster\'s kind', () => {
    const kindTest = /\bkind\s*[!=]==\s*['"](local|kind|existing)['"]|['"](local|kind|existing)['"]\s*[!=]==\s*[\w.]*kind\b|case\s+['"](local|kind|existing)['"]\s*:/;
    const offenders = [...src, ...steps]
      .filter((f) => !rel(f).startsWith('src/cluster/providers/'))
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').map((line, i) => ({ f, line, i })))
      .filter(({ line }) => kindTest.test(line))
      .map(({ f, line, i }) => `${rel(f)}:${i + 1}: ${line.trim()}`);
    assert.deepEqual(offenders, []);
  });

  it('the check itself catches a comparison', () => {
    const kindTest = /\bkind\s*[!=]==\s*['"](local|kind|existing)['"]/;
    assert.ok(kindTest.test("if (s.cluster.kind !== 'local') return;"));
  });

  it('only src/kube imports @kubernetes/client-node', () => {
    const offenders = [...src, ...steps].filter((f) => !rel(f).startsWith('src/kube/') && /from\s+['"]@kubernetes\/client-node['"]/.test(readFileSync(f, 'utf8'))).map(rel);
    assert.deepEqual(offenders, []);
  });

  it('the ledger imports no provider and no real-node code', () => {
    const offenders = src.filter((f) => rel(f).startsWith('src/ledger/')).flatMap((f) => runtimeImports(f).filter((d) => rel(d).startsWith('src/cluster/')).map((d) => `${rel(f)} → ${rel(d)}`));
    assert.deepEqual(offenders, []);
  });

  it('src/ has no import cycle', () => {
    assert.deepEqual(cycles(src), []);
  });

  it('the cycle finder finds a cycle', () => {
    const a = join(root, 'src/ledger/ledger.ts');
    const b = join(root, 'src/ledger/undo-ops.ts');
    // ledger → undo-ops is real; pretend undo-ops imported ledger back.
    assert.ok(runtimeImports(a).includes(b));
    assert.deepEqual(runtimeImports(b, "import { Ledger } from './ledger.js';"), [a]);
    assert.deepEqual(runtimeImports(b, "import type { Ledger } from './ledger.js';\nimport { type UndoRecord } from './ledger.js';"), []);
  });
});
