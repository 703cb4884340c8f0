/**
 * What `kubeproof check` does before it loads anything else, to start in well under a second:
 * no Kubernetes client (src/kube/library.ts), and cucumber-expressions' argument positions from
 * the regexp engine rather than a JavaScript regexp parser.
 */
import { Module, createRequire } from 'node:module';

/**
 * cucumber-expressions finds where each argument of a step sits through regexp-match-indices,
 * whose probe for the engine's own `d` flag tests a regexp without that flag, so on every Node
 * it falls back to re-parsing each regexp in JavaScript (regexp-tree): the larger part of
 * matching a few hundred steps. Node ≥ 16 has the flag: give the same answer from the engine,
 * and only for a text the regexp matches at all.
 */
export function nativeMatchIndices(): void {
  const require = createRequire(import.meta.url);
  const cucumber = require.resolve('@cucumber/cucumber');
  const expressions = createRequire(cucumber).resolve('@cucumber/cucumber-expressions');
  const path = createRequire(expressions).resolve('regexp-match-indices');
  if (require.cache[path]) return;
  const compiled = new WeakMap<RegExp, { d: RegExp; prefix: string; seen: Map<string, RegExpExecArray | null> }>();
  const exec = (regexp: RegExp, text: string): RegExpExecArray | null => {
    let r = compiled.get(regexp);
    if (!r) compiled.set(regexp, (r = { d: new RegExp(regexp.source, regexp.flags.includes('d') ? regexp.flags : `${regexp.flags}d`), prefix: literalPrefix(regexp), seen: new Map() }));
    // Most step texts match none of a few hundred definitions, and most differ in their first words.
    if (!text.startsWith(r.prefix)) return null;
    if (regexp.global || regexp.sticky) {
      r.d.lastIndex = regexp.lastIndex;
      return r.d.exec(text);
    }
    // cucumber matches every step three times (and a Background's in every scenario): once each.
    let m = r.seen.get(text);
    // Only the `d` copy is run: compiling each of a few hundred regexps twice costs more than indices on a miss.
    if (m === undefined) r.seen.set(text, (m = r.d.exec(text)));
    return m;
  };
  const mod = new Module(path);
  mod.filename = path;
  mod.loaded = true;
  mod.exports = exec;
  require.cache[path] = mod;
}

/** The text every match of an anchored regexp starts with ("" when it cannot be read off the source). */
export function literalPrefix(regexp: RegExp): string {
  const source = regexp.source;
  if (!source.startsWith('^') || /[imsy]/.test(regexp.flags) || hasTopLevelAlternative(source)) return '';
  let prefix = '';
  for (const ch of source.slice(1)) {
    if ('\\()[].*+?{}|^$'.includes(ch)) {
      // A quantifier applies to the character before it: that one is not certain.
      if ('*+?{'.includes(ch)) prefix = prefix.slice(0, -1);
      break;
    }
    prefix += ch;
  }
  return prefix;
}

/** `^a|b`: the anchor and the prefix belong to the first alternative only. */
function hasTopLevelAlternative(source: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') i++;
    else if (inClass) inClass = ch !== ']';
    else if (ch === '[') inClass = true;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) return true;
  }
  return false;
}
