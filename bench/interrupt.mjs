#!/usr/bin/env node
// Interrupted runs, many of them: `node bench/interrupt.mjs [--iterations 200] [--seed S]` (after
// `npx tsc -p .`). The same experiment as test/integration/interrupt.test.ts, on one local
// cluster `bench-interrupt` used as an existing cluster: every fault family in turn, SIGINT or
// SIGKILL (then `kubeproof clean`) at a seeded moment after spawn, and the cluster compared with
// its state before the run, read from watches of its own. It records runs, kill points and
// leftovers into its section of bench/README.md (between the interrupt markers, nothing else), and
// prints each leftover with the run's and clean's output. Exit 1 when anything was left behind.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const { LocalProvider } = await import(join(dist, 'src/cluster/providers/local.js'));
const { Kube } = await import(join(dist, 'src/kube/client.js'));
const { ClusterState, FAMILIES, Spans, schedule, interruptOnce, describeAttempt, writeFeatures } = await import(join(dist, 'test/integration/interrupt-kit.js'));
const { kubeproof } = await import(join(dist, 'test/integration/harness.js'));

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '200' }, seed: { type: 'string' }, name: { type: 'string', default: 'bench-interrupt' } } });
const iterations = Number(values.iterations);
const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const BEGIN = '<!-- interrupt:begin -->';
const END = '<!-- interrupt:end -->';

console.error(`interrupt bench: ${iterations} runs, seed ${seed} (--seed ${seed} replays the schedule)`);
const tmp = mkdtempSync(join(tmpdir(), 'kubeproof-bench-interrupt-'));
const started = Date.now();
const cluster = await new LocalProvider().up({ name: values.name, nodes: 3, zones: ['a', 'b', 'c'], log: (l) => console.error(`  [cluster] ${l}`) });
const attempts = [];
const leftovers = [];
// Ctrl-C ends the loop after the current run; the cluster still goes and the section is written.
let stopping = false;
process.on('SIGINT', () => (stopping = true));
try {
  const kube = Kube.fromKubeconfig(cluster.kubeconfigPath);
  const state = new ClusterState(kube);
  await state.start();
  const target = { kubeconfig: cluster.kubeconfigPath, context: cluster.context, reports: join(tmp, 'reports') };
  const features = writeFeatures(tmp);
  let baseline = state.lines();
  const spans = new Spans();
  for (const [i, plan] of schedule(seed, iterations).entries()) {
    if (stopping) break;
    const a = await interruptOnce(state, baseline, features.get(plan.family.name), plan, spans.delay(plan), target);
    attempts.push(a);
    spans.learn(a);
    console.error(describeAttempt(a, i));
    if (a.leftovers.length) {
      leftovers.push({ i, family: a.family, signal: a.signal, delayMs: a.delayMs, leftovers: a.leftovers, run: a.run.out.slice(-4000), clean: a.clean?.out ?? '' });
      // What was left is counted once: clean it up and judge the next run on its own.
      await kubeproof(['clean', '--all', '--kubeconfig', target.kubeconfig, '--context', target.context, '--allow-context', target.context]).done;
      await state.settle(baseline, 30_000);
      baseline = state.lines();
    }
    rmSync(target.reports, { recursive: true, force: true });
  }
  await state.stop();
} finally {
  await cluster.down();
  rmSync(tmp, { recursive: true, force: true });
}

/** Where a kill landed: before the run changed anything, with only its Lease/namespace, with a fault in place, or after it ended. */
function killPoint(a) {
  if (!a.interrupted) return 'after the run ended';
  const changes = a.atKill.filter((l) => l.startsWith('+'));
  if (changes.some((l) => /^\+ (node|pod) /.test(l))) return 'a fault in place';
  if (changes.length) return 'Lease, ledger or namespace only';
  return 'before any change';
}

const POINTS = ['before any change', 'Lease, ledger or namespace only', 'a fault in place', 'after the run ended'];
const rows = FAMILIES.map((f) => {
  const mine = attempts.filter((a) => a.family === f.name);
  const delays = mine.map((a) => a.killAtMs / 1000);
  const count = (p) => mine.filter((a) => killPoint(a) === p).length;
  return `| ${f.name} | ${mine.length} | ${mine.filter((a) => a.signal === 'SIGINT').length} / ${mine.filter((a) => a.signal === 'SIGKILL').length} | ${delays.length ? `${Math.min(...delays).toFixed(1)}–${Math.max(...delays).toFixed(1)}` : '–'} | ${POINTS.map(count).join(' / ')} | ${mine.filter((a) => a.leftovers.length).length} |`;
});
const minutes = ((Date.now() - started) / 60000).toFixed(0);
const section = [
  BEGIN,
  '## Interrupted runs (`bench/interrupt.mjs`)',
  '',
  `\`node bench/interrupt.mjs --iterations ${iterations} --seed ${seed}\` on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${minutes} min: the experiment of`,
  '`test/integration/interrupt.test.ts` (which CI runs 21 times) run many times on one local cluster used as an existing cluster.',
  'Each run is one fault family in turn; every other round of the families is signalled 0–3 s after its fault',
  'is seen to land, the others at a seeded moment from spawn to about the end of the run; after SIGKILL,',
  '`kubeproof clean`. Then nodes, pods, namespaces, ledgers and Leases are compared with their state',
  'before the run, from watches of the bench itself. Kill points: what the run had done when the signal came',
  '(a pod kill leaves no mark on a node or pod: its kills mid-fault count as namespace only).',
  '',
  '| family | runs | SIGINT / SIGKILL | signals (s after spawn) | before any change / Lease, ledger or namespace only / a fault in place / after the run ended | runs with leftovers |',
  '|---|---|---|---|---|---|',
  ...rows,
  `| **all** | ${attempts.length} | ${attempts.filter((a) => a.signal === 'SIGINT').length} / ${attempts.filter((a) => a.signal === 'SIGKILL').length} | | ${POINTS.map((p) => attempts.filter((a) => killPoint(a) === p).length).join(' / ')} | **${leftovers.length}** |`,
  '',
  leftovers.length
    ? `Leftovers found (the goal is none):\n\n${leftovers.map((l) => `- #${l.i} ${l.family} ${l.signal} at ${(l.delayMs / 1000).toFixed(1)} s: ${l.leftovers.join('; ')}`).join('\n')}`
    : 'Leftovers found: none.',
  END,
].join('\n');

const readme = join(here, 'README.md');
const text = readFileSync(readme, 'utf8');
const at = text.indexOf(BEGIN);
const next = at >= 0 ? `${text.slice(0, at)}${section}${text.slice(text.indexOf(END) + END.length)}` : `${text.trimEnd()}\n\n${section}\n`;
writeFileSync(readme, next);
for (const l of leftovers) console.error(`\n#${l.i} ${l.family} ${l.signal} at ${l.delayMs} ms left:\n  ${l.leftovers.join('\n  ')}\n--- run ---\n${l.run}\n--- clean ---\n${l.clean}`);
console.error(`${attempts.length} runs, ${leftovers.length} with leftovers; bench/README.md updated (its interrupt section only)`);
process.exit(leftovers.length ? 1 : 0);
