/** `kubeproof steps`: the step vocabulary, generated from the registered steps. */
import { loadVocabulary } from './vocabulary-loader.js';

export async function renderVocabulary(opts: { json: boolean }): Promise<string> {
  const vocab = await loadVocabulary();
  if (opts.json) return `${JSON.stringify(vocab, null, 2)}\n`;
  const out: string[] = [];
  for (const group of [...new Set(vocab.map((v) => v.group))]) {
    out.push(`## ${group}`);
    for (const v of vocab.filter((x) => x.group === group)) out.push(`  ${v.keyword} ${v.expression}`, `      e.g. ${v.example}`);
    out.push('');
  }
  out.push('Parameters: {duration} "30 s", "2m", "500 ms" · {amount} "3", "at least 2", "at most 1", "no" · {howMany} "2 pods", "50% of the pods", "all pods"');
  out.push('            {workload} deployment|statefulset|daemonset|replicaset|job · {podState} Ready|NotReady|Running|Pending · {names} "a, b and c"');
  out.push('            {pod} pod "db-1" | the oldest pod of deployment "web" | the newest pod of statefulset "db" (a pod named by its place is the one that held it when first named)');
  return `${out.join('\n')}\n`;
}
