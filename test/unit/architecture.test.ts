/**
 * The shape README's architecture section promises, checked on the source with the TypeScript
 * compiler (its parser and type checker, not line-by-line text):
 * (a) outside src/cluster/providers (and src/cli's option parsing, which reads --cluster) no
 *     code compares, switches on, looks up by or searches for a cluster's kind — any value whose
 *     type is one of 'local' | 'kind' | 'existing', a literal among them included;
 * (b) src/ has no import cycle (imports, re-exports, dynamic imports; type-only ones vanish at run time);
 * (c) the folder table: which folder may import which (type imports too), so faults, probes,
 *     expect, scenario and steps reach the providers and the real node only through the handle
 *     (src/cluster/providers/provider.ts, handle.ts); the ledger reaches no cluster code, not even
 *     transitively; only src/kube imports @kubernetes/client-node.
 * Each rule is also run over a fixture that breaks it, so the check itself can fail.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
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
const OPTIONS: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, skipLibCheck: true, noEmit: true, types: ['node'] };

// ---------------------------------------------------------------------------------------------
// (a) the cluster's kind

const KINDS = new Set(['local', 'kind', 'existing']);
/** Where the kind may be decided on: the providers, and the CLI's parsing of --cluster. */
export const KIND_ALLOWED = ['src/cluster/providers/', 'src/cli/'];

/** Whether the expression's type is a cluster kind: one or several of the kind literals, and nothing else. */
function isKindTyped(checker: ts.TypeChecker, e: ts.Expression): boolean {
  const t = checker.getTypeAtLocation(e);
  const parts = t.isUnion() ? t.types : [t];
  return parts.length > 0 && parts.every((p) => p.isStringLiteral() && KINDS.has(p.value));
}

const isKindLiteral = (e: ts.Expression) => (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) && KINDS.has(e.text);
const EQUALITY = new Set([ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken]);
const SEARCHES = new Set(['includes', 'indexOf', 'lastIndexOf', 'has', 'get']);

/** Every place in `files` that decides on a cluster's kind: "file:line: text"; `seen` counts the kind-typed `.kind` reads (a check that resolved no type would see none). */
export function kindDecisions(program: ts.Program, files: string[], seen = { reads: 0 }): string[] {
  const checker = program.getTypeChecker();
  const out: string[] = [];
  for (const file of files) {
    const sf = program.getSourceFile(file);
    if (!sf) throw new Error(`${file} is not in the program`);
    const found = (n: ts.Node) => out.push(`${rel(file)}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}: ${n.getText().replace(/\s+/g, ' ').slice(0, 120)}`);
    const kindy = (e: ts.Expression) => isKindTyped(checker, e);
    const visit = (n: ts.Node): void => {
      if (ts.isPropertyAccessExpression(n) && n.name.text === 'kind' && kindy(n)) seen.reads++;
      if (ts.isBinaryExpression(n) && EQUALITY.has(n.operatorToken.kind) && (kindy(n.left) || kindy(n.right))) found(n);
      else if (ts.isSwitchStatement(n) && (kindy(n.expression) || n.caseBlock.clauses.some((c) => ts.isCaseClause(c) && kindy(c.expression)))) found(n.expression);
      else if (ts.isElementAccessExpression(n) && kindy(n.argumentExpression)) found(n);
      else if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && SEARCHES.has(n.expression.name.text)) {
        const receiver = n.expression.expression;
        const listsKinds = ts.isArrayLiteralExpression(receiver) && receiver.elements.some((el) => isKindLiteral(el as ts.Expression));
        if (listsKinds || n.arguments.some((a) => kindy(a))) found(n);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// imports

export interface ImportEdge {
  from: string;
  to: string;
  /** import type / export type / only type specifiers: gone at run time. */
  typeOnly: boolean;
}

/** Every relative import of a file — import, export … from, import('…'), import '…' — resolved to a .ts path. */
export function importsOf(file: string, text = readFileSync(file, 'utf8')): ImportEdge[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: ImportEdge[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (spec.startsWith('.')) out.push({ from: file, to: resolve(dirname(file), spec).replace(/\.js$/, '.ts'), typeOnly });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const c = n.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const typeOnly = Boolean(c && (c.isTypeOnly || (!c.name && named && named.length > 0 && named.every((e) => e.isTypeOnly))));
      add(n.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      const named = n.exportClause && ts.isNamedExports(n.exportClause) ? n.exportClause.elements : undefined;
      add(n.moduleSpecifier.text, n.isTypeOnly || Boolean(named && named.length > 0 && named.every((e) => e.isTypeOnly)));
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteralLike(n.arguments[0])) {
      add(n.arguments[0].text, false);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** Import cycles among `files` over runtime imports (`read`: a file's imports, for fixtures). */
export function cycles(files: string[], read: (f: string) => ImportEdge[] = (f) => importsOf(f)): string[][] {
  const graph = new Map(files.map((f) => [f, read(f).filter((e) => !e.typeOnly && files.includes(e.to)).map((e) => e.to)]));
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

// ---------------------------------------------------------------------------------------------
// (c) the folder table

/**
 * A file's folder in the table: src/<dir>, with src/cluster split by concept — its leaf modules
 * ("cluster": paths, nodes, lock, readiness, usage, advice), build/, real-node/, the handle
 * ("cluster/handle": providers/provider.ts, the interface, and providers/handle.ts, which
 * rebuilds a cluster's parts from its description) and the providers themselves.
 */
export function folderOf(file: string): string {
  const p = rel(file).split('/');
  if (p[0] === 'steps') return 'steps';
  if (p.length === 2) return 'src';
  if (p[1] !== 'cluster') return p[1]!;
  if (p.length === 3) return 'cluster';
  if (p[2] === 'providers') return p[3] === 'provider.ts' || p[3] === 'handle.ts' ? 'cluster/handle' : 'cluster/providers';
  return `cluster/${p[2]}`;
}

/** Who may import whom (a folder always may import itself; 'src' is src/*.ts: errors, log, host, project, …). README's architecture section prints this table. */
export const MAY_IMPORT: Record<string, string[]> = {
  src: [],
  kube: ['src'],
  wait: ['kube', 'src'],
  ledger: ['kube', 'wait', 'src'],
  cluster: ['cluster/build', 'cluster/handle', 'kube', 'src'],
  'cluster/build': ['cluster', 'src'],
  'cluster/real-node': ['cluster', 'cluster/build', 'cluster/handle', 'kube', 'wait', 'src'],
  'cluster/handle': ['cluster/providers', 'kube', 'ledger', 'traffic', 'src'],
  'cluster/providers': ['cluster', 'cluster/build', 'cluster/handle', 'cluster/real-node', 'kube', 'ledger', 'traffic', 'wait', 'src'],
  traffic: ['cluster/handle', 'kube', 'wait', 'src'],
  timeline: ['kube', 'workload', 'src'],
  scenario: ['cluster', 'cluster/handle', 'kube', 'ledger', 'report', 'timeline', 'wait', 'workload', 'src'],
  workload: ['cluster', 'expect', 'faults', 'kube', 'ledger', 'scenario', 'timeline', 'wait', 'src'],
  faults: ['cluster', 'cluster/build', 'cluster/handle', 'kube', 'ledger', 'report', 'scenario', 'timeline', 'traffic', 'wait', 'workload', 'src'],
  probes: ['cluster/handle', 'kube', 'scenario', 'timeline', 'traffic', 'wait', 'workload', 'src'],
  expect: ['cluster', 'faults', 'kube', 'probes', 'report', 'scenario', 'timeline', 'wait', 'workload', 'src'],
  report: ['cluster/handle', 'kube', 'probes', 'scenario', 'timeline', 'src'],
  run: ['cluster/handle', 'cluster/providers', 'cluster/real-node', 'kube', 'ledger', 'report', 'workload', 'src'],
  cli: ['cluster', 'cluster/build', 'cluster/handle', 'cluster/providers', 'cluster/real-node', 'kube', 'ledger', 'run', 'src'],
  steps: ['cluster/handle', 'expect', 'faults', 'kube', 'probes', 'report', 'run', 'scenario', 'timeline', 'workload', 'src'],
};

/** Imports that break the table (type imports included): "from → to (folder → folder)". */
export function tableBreaks(files: string[], read: (f: string) => ImportEdge[] = (f) => importsOf(f)): string[] {
  return files.flatMap((f) =>
    read(f)
      .filter((e) => {
        const a = folderOf(e.from);
        const b = folderOf(e.to);
        return a !== b && !(MAY_IMPORT[a] ?? []).includes(b);
      })
      .map((e) => `${rel(e.from)} → ${rel(e.to)} (${folderOf(e.from)} may not import ${folderOf(e.to)})`),
  );
}

/** Files the ledger's files reach at run time, transitively, that are cluster code. */
export function ledgerReachesCluster(files: string[], read: (f: string) => ImportEdge[] = (f) => importsOf(f)): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const walk = (f: string, path: string[]) => {
    if (seen.has(f)) return;
    seen.add(f);
    if (rel(f).startsWith('src/cluster/')) out.push([...path, f].map(rel).join(' → '));
    for (const e of read(f)) if (!e.typeOnly && e.to.endsWith('.ts')) walk(e.to, [...path, f]);
  };
  for (const f of files.filter((x) => rel(x).startsWith('src/ledger/'))) walk(f, []);
  return out;
}

// ---------------------------------------------------------------------------------------------

/** A program over in-memory fixture files (and the real lib), for the rules' own tests. */
function fixtureProgram(files: Record<string, string>): ts.Program {
  const host = ts.createCompilerHost(OPTIONS);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name in files ? ts.createSourceFile(name, files[name]!, lang) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name in files || fileExists(name);
  return ts.createProgram({ rootNames: Object.keys(files), options: OPTIONS, host });
}

const fixtureImports = (texts: Record<string, string>) => (f: string) => importsOf(f, texts[f] ?? '');

describe('architecture', () => {
  it("nothing outside src/cluster/providers (and the CLI's --cluster parsing) decides on the cluster's kind", () => {
    const files = [...src, ...steps].filter((f) => !KIND_ALLOWED.some((a) => rel(f).startsWith(a)));
    const program = ts.createProgram({ rootNames: files, options: OPTIONS });
    const seen = { reads: 0 };
    assert.deepEqual(kindDecisions(program, files, seen), []);
    // The checker resolved the cluster's type: it saw the kind read where it is only said (reports, messages).
    assert.ok(seen.reads > 0, 'no read of a cluster kind was typed: the program did not resolve its imports');
  });

  it('the kind check finds every form: ==, ===, !==, switch, a lookup table, includes, a template literal, a comparison over lines', () => {
    const f = join(root, 'src/faults/fixture-kind.ts');
    const text = `
      type ClusterKind = 'local' | 'kind' | 'existing';
      declare const s: { cluster: { kind: ClusterKind } };
      declare const clusterKind: ClusterKind;
      declare const w: { kind: 'Deployment' | 'Job' };
      export const a = s.cluster.kind == 'local';
      export const b = clusterKind === 'kind';
      export const c = 'existing' !== s.cluster.kind;
      export function d() { switch (s.cluster.kind) { default: return 1; } }
      export const e = { local: 1, kind: 2, existing: 3 }[s.cluster.kind];
      export const f = ['kind', 'existing'].includes(String(s.cluster.kind));
      export const g = String(s.cluster.kind) === \`local\`;
      export const h = s.cluster
        .kind
        ===
        'kind';
      export const k = new Set<ClusterKind>(['kind']).has(clusterKind);
      export const fine = w.kind === 'Job' || \`a \${s.cluster.kind} cluster\`.length > 0;
    `;
    const found = kindDecisions(fixtureProgram({ [f]: text }), [f]);
    assert.deepEqual(
      found.map((l) => Number(l.split(':')[1])),
      [6, 7, 8, 9, 10, 11, 12, 13, 17],
      found.join('\n'),
    );
  });

  it('only src/kube imports @kubernetes/client-node', () => {
    const offenders = [...src, ...steps].filter((f) => !rel(f).startsWith('src/kube/')).filter((f) => {
      const sf = ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.Latest, true);
      let uses = false;
      const visit = (n: ts.Node): void => {
        if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier) && n.moduleSpecifier.text.startsWith('@kubernetes/client-node')) uses = true;
        if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteralLike(n.arguments[0]) && n.arguments[0].text.startsWith('@kubernetes/client-node')) uses = true;
        ts.forEachChild(n, visit);
      };
      visit(sf);
      return uses;
    });
    assert.deepEqual(offenders.map(rel), []);
  });

  it('src/ has no import cycle', () => {
    assert.deepEqual(cycles(src), []);
  });

  it('the cycle finder follows imports, re-exports and dynamic imports, and skips type-only ones', () => {
    const a = join(root, 'src/ledger/fixture-a.ts');
    const b = join(root, 'src/ledger/fixture-b.ts');
    const c = join(root, 'src/ledger/fixture-c.ts');
    const edges = (texts: Record<string, string>) => cycles([a, b, c], fixtureImports(texts));
    assert.equal(edges({ [a]: "import { x } from './fixture-b.js';", [b]: "import { y } from './fixture-a.js';" }).length, 1);
    assert.equal(edges({ [a]: "export { x } from './fixture-b.js';", [b]: "export * from './fixture-c.js';", [c]: "const m = await import('./fixture-a.js');" }).length, 1);
    assert.equal(edges({ [a]: "import './fixture-b.js';", [b]: "import y, { type Y } from './fixture-a.js';" }).length, 1);
    assert.deepEqual(edges({ [a]: "import type { X } from './fixture-b.js';", [b]: "import { type Y } from './fixture-a.js';\nexport type { Z } from './fixture-a.js';" }), []);
  });

  it('every import follows the folder table: faults, probes, expect, scenario and steps reach providers and the real node only through the handle', () => {
    for (const f of ['faults', 'probes', 'expect', 'scenario', 'steps']) {
      assert.ok(!MAY_IMPORT[f]!.includes('cluster/providers') && !MAY_IMPORT[f]!.includes('cluster/real-node'), `the table lets ${f} import a provider or the real node`);
    }
    assert.deepEqual(Object.keys(MAY_IMPORT).filter((f) => ![...src, ...steps].some((x) => folderOf(x) === f)), [], 'a folder in the table that does not exist');
    assert.deepEqual([...new Set([...src, ...steps].map(folderOf))].filter((f) => !(f in MAY_IMPORT)), [], 'a folder missing from the table');
    assert.deepEqual(tableBreaks([...src, ...steps]), []);
  });

  it('the table check catches a fault importing a provider or the real node, even for a type or a re-export', () => {
    const f = join(root, 'src/faults/fixture.ts');
    const s = join(root, 'steps/fixture.steps.ts');
    const texts = {
      [f]: "import type { LocalCluster } from '../cluster/providers/local.js';\nexport { kubeletPid } from '../cluster/real-node/kubelet.js';\nimport { isRefusal } from '../cluster/providers/provider.js';",
      [s]: "import { kindParts } from '../src/cluster/providers/kind.js';",
    };
    assert.deepEqual(tableBreaks([f, s], fixtureImports(texts)), [
      'src/faults/fixture.ts → src/cluster/providers/local.ts (faults may not import cluster/providers)',
      'src/faults/fixture.ts → src/cluster/real-node/kubelet.ts (faults may not import cluster/real-node)',
      'steps/fixture.steps.ts → src/cluster/providers/kind.ts (steps may not import cluster/providers)',
    ]);
  });

  it('the ledger reaches no cluster code at run time, not even through another module', () => {
    assert.deepEqual(ledgerReachesCluster(src), []);
  });

  it('the transitive ledger check catches a provider reached through another folder', () => {
    const l = join(root, 'src/ledger/fixture.ts');
    const k = join(root, 'src/kube/fixture.ts');
    const texts = { [l]: "import { x } from '../kube/fixture.js';", [k]: "import { y } from '../cluster/providers/local.js';" };
    const read = (f: string) => (f in texts ? importsOf(f, texts[f as keyof typeof texts]) : []);
    assert.deepEqual(ledgerReachesCluster([l], read), ['src/ledger/fixture.ts → src/kube/fixture.ts → src/cluster/providers/local.ts']);
  });
});
