/**
 * When no step matches a line, say why in one sentence: either the words fit a step but an
 * argument does not fit its type ("30 parsecs" is not a {duration}), or the closest step.
 */

/** What each parameter type accepts, for the message (names as in steps/parameters.ts). */
const ACCEPTS: Record<string, string> = {
  duration: 'a number and a unit, e.g. "30 s", "2m", "500 ms"',
  amount: 'a number, optionally with "at least", "at most", "exactly", "more than", "fewer than", or "no"',
  percent: 'a percentage, e.g. "50%"',
  workload: 'deployment, statefulset, daemonset, replicaset or job',
  kind: 'a kind such as deployment, service, pdb, hpa, node or pod',
  howMany: '"2 pods", "50% of the pods" or "all pods"',
  podState: 'Ready, NotReady, Running or Pending',
  pod: 'pod "name", or the oldest (newest) pod of deployment (statefulset, …) "name"',
  int: 'a whole number',
  float: 'a number',
  string: 'a "quoted" string',
  word: 'one word',
};

function escape(text: string): string {
  return text.replace(/[.*+?^$|[\]\\]/g, '\\$&');
}

/** What each parameter type's own regexp accepts (as steps/parameters.ts defines them); others: anything. */
const STRICT: Record<string, string> = {
  duration: String.raw`\d+(?:\.\d+)?\s?(?:ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)`,
  int: String.raw`-?\d+`,
  float: String.raw`-?\d+(?:\.\d+)?`,
  percent: String.raw`\d+(?:\.\d+)?\s?%`,
  string: String.raw`"[^"]*"|'[^']*'`,
  word: String.raw`[^\s]+`,
  workload: 'deployment|statefulset|daemonset|replicaset|job',
  podState: 'Ready|NotReady|Running|Pending',
  amount: String.raw`(?:(?:exactly|at least|at most|more than|fewer than) )?\d+|no`,
  howMany: String.raw`\d+ pods?|\d+(?:\.\d+)?% of the pods|all pods`,
  pod: String.raw`pod "[^"]*"|the (?:oldest|newest) pod of (?:deployment|statefulset|daemonset|replicaset|job) "[^"]*"`,
};

/**
 * A regexp for the expression where every {parameter} accepts what its type accepts, except
 * the one at `loose`, which accepts any text: if that matches, that argument is the wrong one.
 */
function regExpFor(expression: string, loose: number): { re: RegExp; params: string[] } {
  const params: string[] = [];
  let src = '';
  for (const part of expression.split(/(\{[^}]*\})/)) {
    if (/^\{[^}]*\}$/.test(part)) {
      const name = part.slice(1, -1);
      src += params.length === loose ? '(.+?)' : `(?:${STRICT[name] ?? '.+?'})`;
      params.push(name);
      continue;
    }
    src += escape(part)
      .replace(/\(([^)]*)\)/g, '(?:$1)?') // optional text: pod(s)
      .replace(/[^\s/()]+(?:\/[^\s/()]+)+/g, (m) => `(?:${m.split('/').join('|')})`); // alternatives: is/are
  }
  return { re: new RegExp(`^${src}$`), params };
}

function words(text: string): string[] {
  return text
    .replace(/\{[^}]*\}|"[^"]*"|\d+(?:\.\d+)?/g, ' _ ')
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean);
}

/** Dice coefficient over word bigrams: 1 is the same sentence. */
function similarity(a: string, b: string): number {
  const pairs = (w: string[]) => w.slice(1).map((x, i) => `${w[i]} ${x}`);
  const pa = pairs(words(a));
  const pb = pairs(words(b));
  if (!pa.length || !pb.length) return 0;
  const rest = [...pb];
  let common = 0;
  for (const p of pa) {
    const i = rest.indexOf(p);
    if (i >= 0) {
      common++;
      rest.splice(i, 1);
    }
  }
  return (2 * common) / (pa.length + pb.length);
}

/** One sentence on why `text` matched no step, given the registered step expressions. */
export function explainUndefined(text: string, expressions: string[]): string {
  // The words fit a step once one argument may be anything: that argument does not fit its type.
  const literal = (e: string) => e.replace(/\{[^}]*\}/g, '').length;
  for (const expression of [...expressions].sort((a, b) => literal(b) - literal(a))) {
    const count = (expression.match(/\{[^}]*\}/g) ?? []).length;
    for (let i = 0; i < count; i++) {
      const { re, params } = regExpFor(expression, i);
      const m = re.exec(text);
      if (!m) continue;
      const param = params[i]!;
      return `"${m[1]}" is not a {${param}}: expected ${ACCEPTS[param] ?? `what {${param}} accepts`} (step: "${expression}")`;
    }
  }
  let best = '';
  let score = 0;
  for (const expression of expressions) {
    const s = similarity(text, expression);
    if (s > score) [best, score] = [expression, s];
  }
  return score >= 0.4 ? `no step matches; the closest is "${best}"` : 'no step matches (kubeproof steps lists the vocabulary)';
}
