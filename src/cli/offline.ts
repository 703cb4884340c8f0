/**
 * For commands that need no cluster (`kubeproof check`): the Kubernetes client is not loaded at
 * all. It is the heaviest import of the project (most of a second) and `check` never talks to
 * an API server; with it stubbed, nothing in the process could, whatever a step module does at
 * load time. Only src/kube/client.ts imports it (test/unit/architecture.test.ts), and only a
 * Kube made at run time uses it.
 */
import { Module, createRequire, register } from 'node:module';

const STUB = 'data:text/javascript,export%20%7B%7D';

const HOOKS = `
export async function resolve(specifier, context, next) {
  if (specifier === '@kubernetes/client-node') return { url: ${JSON.stringify(STUB)}, shortCircuit: true };
  return next(specifier, context);
}`;

let registered = false;

export function withoutKubernetesClient(): void {
  if (registered) return;
  registered = true;
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`);
}

/**
 * cucumber-expressions finds where each argument of a step sits through regexp-match-indices,
 * whose probe for the engine's own `d` flag tests a regexp without that flag, so on every Node
 * it falls back to re-parsing each regexp in JavaScript (regexp-tree): the larger part of
 * matching a few hundred steps. Node ≥ 16 has the flag: give the same answer from the engine.
 */
export function nativeMatchIndices(): void {
  const require = createRequire(import.meta.url);
  const cucumber = require.resolve('@cucumber/cucumber');
  const expressions = createRequire(cucumber).resolve('@cucumber/cucumber-expressions');
  const path = createRequire(expressions).resolve('regexp-match-indices');
  if (require.cache[path]) return;
  const withIndices = new WeakMap<RegExp, RegExp>();
  const exec = (regexp: RegExp, text: string): RegExpExecArray | null => {
    let d = withIndices.get(regexp);
    if (!d) withIndices.set(regexp, (d = new RegExp(regexp.source, regexp.flags.includes('d') ? regexp.flags : `${regexp.flags}d`)));
    d.lastIndex = regexp.lastIndex;
    return d.exec(text);
  };
  const mod = new Module(path);
  mod.filename = path;
  mod.loaded = true;
  mod.exports = exec;
  require.cache[path] = mod;
}
