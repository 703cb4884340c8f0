/**
 * The features' scenarios as cucumber will run them (pickles), parsed once with cucumber's own
 * Gherkin parser and selected as cucumber selects them: the paths (a directory means every
 * `.feature` under it, `file:line` the scenarios or example rows on that line, `*` and `**`
 * globs), the tag expression and the name filters of the run configuration. What `check` and
 * the run's pre-check read, without cucumber's runtime: its dry run parsed every feature twice
 * and built formatters for nothing, most of `kubeproof check`'s second.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { generateMessages } from '@cucumber/gherkin';
import { IdGenerator, SourceMediaType, type GherkinDocument, type Pickle } from '@cucumber/messages';
import parseTagExpression from '@cucumber/tag-expressions';

export interface SourceSelection {
  paths: string[];
  tagExpression?: string;
  names?: string[];
  defaultDialect?: string;
}

export interface Picked {
  documents: GherkinDocument[];
  /** The selected pickles, in the order of their files (sorted) and of their place in each. */
  pickles: Pickle[];
  errors: Array<{ uri: string; line: number; message: string }>;
}

/** `features/a.feature:12:30` → the path and its lines. */
function splitLines(path: string): { path: string; lines: number[] } {
  const m = path.match(/^(.*?)((?::\d+)+)$/);
  return m ? { path: m[1]!, lines: m[2]!.slice(1).split(':').map(Number) } : { path, lines: [] };
}

const GLOB = /[*?[\]{}]/;

/** `features/**\/*.feature` → a test of a path relative to the cwd (`**` any folders, `*` and `?` within one). */
function globTest(pattern: string): (path: string) => boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*' && pattern[i + 1] === '*') {
      re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const r = new RegExp(`^${re}$`);
  return (path) => r.test(path);
}

async function featuresUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await featuresUnder(p)));
    else if (e.name.endsWith('.feature')) out.push(p);
  }
  return out;
}

/** A path as cucumber's URIs name it: relative to the cwd, `/`-separated. */
const uriOf = (cwd: string, abs: string): string => relative(cwd, abs).split(sep).join('/');

/** The feature files the paths name (relative to `cwd`, `/`-separated as cucumber's URIs), each with its line filter (empty: all). */
async function resolvePaths(paths: string[], cwd: string, missing: (path: string) => void): Promise<Map<string, Set<number> | undefined>> {
  const files = new Map<string, Set<number> | undefined>();
  const add = (abs: string, lines: number[]) => {
    const uri = uriOf(cwd, abs);
    if (!lines.length) files.set(uri, undefined);
    else if (!files.has(uri) || files.get(uri)) files.set(uri, new Set([...(files.get(uri) ?? []), ...lines]));
  };
  for (const given of paths) {
    const { path, lines } = splitLines(given);
    if (GLOB.test(path)) {
      const fixed = path.split('/').findIndex((part) => GLOB.test(part));
      const base = resolve(cwd, path.split('/').slice(0, fixed).join('/') || '.');
      const test = globTest(uriOf(cwd, resolve(cwd, path)));
      const found = await featuresUnder(base).catch(() => []);
      for (const f of found) if (test(uriOf(cwd, f))) add(f, lines);
      continue;
    }
    const abs = resolve(cwd, path);
    const st = await stat(abs).catch(() => undefined);
    if (!st) missing(path);
    else if (st.isDirectory()) for (const f of await featuresUnder(abs)) add(f, lines);
    else add(abs, lines);
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The lines a pickle answers to in a `file:line` filter: its scenario's, and its example row's. */
export function linesOf(doc: GherkinDocument): Map<string, number> {
  const lines = new Map<string, number>();
  const walk = (children: NonNullable<GherkinDocument['feature']>['children']) => {
    for (const c of children) {
      if (c.scenario) {
        lines.set(c.scenario.id, c.scenario.location.line);
        for (const ex of c.scenario.examples) for (const row of ex.tableBody) lines.set(row.id, row.location.line);
      }
      if (c.rule) walk(c.rule.children as never);
    }
  };
  walk(doc.feature?.children ?? []);
  return lines;
}

export async function pickFeatures(sel: SourceSelection, cwd: string): Promise<Picked> {
  const picked: Picked = { documents: [], pickles: [], errors: [] };
  const files = await resolvePaths(sel.paths, cwd, (path) => picked.errors.push({ uri: path, line: 0, message: 'no such file or directory' }));
  const tags = sel.tagExpression ? parseTagExpression(sel.tagExpression) : undefined;
  const names = (sel.names ?? []).map((n) => new RegExp(n));
  const newId = IdGenerator.incrementing();
  const texts = await Promise.all([...files.keys()].map((uri) => readFile(resolve(cwd, uri), 'utf8')));
  [...files].forEach(([uri, onLines], i) => {
    const envelopes = generateMessages(texts[i]!, uri, SourceMediaType.TEXT_X_CUCUMBER_GHERKIN_PLAIN, { newId, includeSource: false, includeGherkinDocument: true, includePickles: true, ...(sel.defaultDialect ? { defaultDialect: sel.defaultDialect } : {}) });
    let lines: Map<string, number> | undefined;
    for (const e of envelopes) {
      if (e.parseError) picked.errors.push({ uri, line: e.parseError.source.location?.line ?? 0, message: e.parseError.message });
      if (e.gherkinDocument) {
        picked.documents.push(e.gherkinDocument);
        // Only a `file:line` filter reads them.
        if (onLines) lines = linesOf(e.gherkinDocument);
      }
      if (e.pickle) {
        const p = e.pickle;
        if (onLines && !p.astNodeIds.some((id) => onLines.has(lines?.get(id) ?? -1))) continue;
        if (tags && !tags.evaluate(p.tags.map((t) => t.name))) continue;
        if (names.length && !names.some((n) => n.test(p.name))) continue;
        picked.pickles.push(p);
      }
    }
  });
  return picked;
}
