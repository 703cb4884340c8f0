#!/usr/bin/env node
// Interrupted runs, many of them: `node bench/interrupt.mjs [--iterations 200] [--seed S] [--minutes M]`
// (after `npx tsc -p .`). The same experiment as test/integration/interrupt.test.ts (KWOK and
// real-node families) and kind.test.ts (kind's node faults): on one local cluster
// `bench-interrupt` — with the real node where this machine can run one — used as an existing
// cluster (real-node families by --name), and a kind cluster `bench-interrupt-kind` where a Docker
// engine answers: every fault family in turn, SIGINT or SIGKILL (then `kubeproof clean`) at a
// seeded moment after spawn, and the cluster compared with its state before the run, read from
// watches of its own; after a real-node run the host too, after a kind run the node containers.
// --minutes stops the loop after that long (the runs done are what is recorded). It records
// runs, kill points and leftovers into its section of bench/README.md (between the interrupt
// markers, nothing else), and prints each leftover with the run's and clean's output. Exit 1 when
// anything was left behind.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const { LocalProvider } = await import(join(dist, 'src/cluster/providers/local.js'));
const { Kube } = await import(join(dist, 'src/kube/client.js'));
const { until } = await import(join(dist, 'src/wait/until.js'));
const { nodeReadyCondition } = await import(join(dist, 'src/cluster/nodes.js'));
const { ensureLocalImages } = await import(join(dist, 'src/cluster/build/images.js'));
const { kindKubeconfigPath } = await import(join(dist, 'src/cluster/providers/kind.js'));
const { ClusterState, FAMILIES, REAL_FAMILIES, KIND_FAMILIES, Spans, schedule, interruptOnce, describeAttempt, writeFeatures, hostLines, kindNodeLines, cleanArgs, realNodeBaseline } = await import(join(dist, 'test/integration/interrupt-kit.js'));
const { kubeproof, realNodeSkipReason } = await import(join(dist, 'test/integration/harness.js'));

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '200' }, seed: { type: 'string' }, name: { type: 'string', default: 'bench-interrupt' }, minutes: { type: 'string' }, 'no-real': { type: 'boolean', default: false }, 'no-kind': { type: 'boolean', default: false } } });
const iterations = Number(values.iterations);
const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const deadline = values.minutes ? Date.now() + Number(values.minutes) * 60_000 : Infinity;
const BEGIN = '<!-- interrupt:begin -->';
const END = '<!-- interrupt:end -->';

const realSkip = values['no-real'] ? 'not asked for (--no-real)' : await realNodeSkipReason();
const kindSkip = values['no-kind'] ? 'not asked for (--no-kind)' : spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0 ? false : 'no Docker engine answers (docker info failed)';
const families = [...FAMILIES, ...(realSkip ? [] : REAL_FAMILIES), ...(kindSkip ? [] : KIND_FAMILIES)];
console.error(`interrupt bench: ${iterations} runs${values.minutes ? ` (at most ${values.minutes} min)` : ''}, seed ${seed} (--seed ${seed} replays the schedule); ${families.length} families${realSkip ? `; real node: ${realSkip}` : ''}${kindSkip ? `; kind: ${kindSkip}` : ''}`);
const tmp = mkdtempSync(join(tmpdir(), 'kubeproof-bench-interrupt-'));
const started = Date.now();
const log = (l) => console.error(`  [cluster] ${l}`);
if (!realSkip) await ensureLocalImages({ log });
const cluster = await new LocalProvider().up({ name: values.name, nodes: 3, zones: ['a', 'b', 'c'], realNodes: realSkip ? 0 : 1, log });
const kindName = `${values.name}-kind`;
const attempts = [];
const leftovers = [];
const failedAlone = [];
// Ctrl-C ends the loop after the current run; the clusters still go and the section is written.
let stopping = false;
process.on('SIGINT', () => (stopping = true));

/** Watch a cluster, wait until its nodes are settled (Ready, no node.kubernetes.io taints), and take its baseline. */
async function watched(kube) {
  const state = new ClusterState(kube);
  await state.start();
  await until(
    {
      description: 'every node Ready without node.kubernetes.io taints',
      sources: [state.nodes],
      evaluate: () => {
        const bad = state.nodes.list().filter((n) => nodeReadyCondition(n) !== 'True' || (n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/')));
        return { ok: bad.length === 0, observed: bad.map((n) => n.metadata?.name).join(', ') || 'settled' };
      },
    },
    { within: 120_000 },
  );
  return { state, baseline: state.lines() };
}

let kindUp = false;
try {
  const local = await watched(Kube.fromKubeconfig(cluster.kubeconfigPath));
  const existing = { kubeconfig: cluster.kubeconfigPath, context: cluster.context, reports: join(tmp, 'reports') };
  const places = { kwok: { ...local, target: existing } };
  if (!realSkip) {
    places.real = { ...local, target: { ...existing, name: values.name, outside: { what: 'the host', lines: hostLines, before: [] } } };
    places.real.target.outside.before = await realNodeBaseline(local.state, places.real.target, tmp);
  }
  if (!kindSkip) {
    const up = await kubeproof(['cluster', 'up', '--cluster', 'kind', '--name', kindName, '--nodes', '3', '--kind-image', process.env.KUBEPROOF_KIND_IMAGE ?? 'offline']).done;
    if (up.code !== 0) throw new Error(`kind cluster up failed:\n${up.out}`);
    kindUp = true;
    const kind = await watched(Kube.fromKubeconfig(kindKubeconfigPath(kindName), `kind-${kindName}`));
    places.kind = { ...kind, target: { kubeconfig: kindKubeconfigPath(kindName), context: `kind-${kindName}`, reports: join(tmp, 'reports'), outside: { what: "kind's node containers", lines: () => kindNodeLines(kindName), before: await kindNodeLines(kindName) } } };
  }
  const features = writeFeatures(tmp, families);
  const spans = new Spans();
  for (const [i, plan] of schedule(seed, iterations, families).entries()) {
    if (stopping || Date.now() > deadline) break;
    const place = places[plan.family.on ?? 'kwok'];
    // The local cluster's state is shared by the KWOK and the real-node families: one baseline.
    const a = await interruptOnce(place.state, place.baseline, features.get(plan.family.name), plan, spans.delay(plan), place.target, plan.family.on === 'kind' ? 120_000 : 60_000);
    attempts.push(a);
    spans.learn(a);
    console.error(describeAttempt(a, i));
    // A run that ended before its signal must have passed: a failing scenario tested nothing (recorded, with its output).
    if (!a.interrupted && a.run.code !== 0) {
      failedAlone.push({ i, family: a.family, code: a.run.code });
      console.error(`#${i} ${a.family} ended by itself with exit ${a.run.code}:\n${a.run.out.slice(-4000)}`);
    }
    if (a.leftovers.length) {
      leftovers.push({ i, family: a.family, signal: a.signal, delayMs: a.delayMs, leftovers: a.leftovers, run: a.run.out.slice(-4000), clean: a.clean?.out ?? '' });
      // What was left is counted once: clean it up and judge the next run on its own.
      await kubeproof(['clean', '--all', ...cleanArgs(place.target)]).done;
      await place.state.settle(place.baseline, 30_000);
      for (const p of Object.values(places)) if (p.state === place.state) p.baseline = place.state.lines();
      if (place.target.outside) place.target.outside.before = await place.target.outside.lines();
    }
    rmSync(join(tmp, 'reports'), { recursive: true, force: true });
  }
  await Promise.all([...new Set(Object.values(places).map((p) => p.state))].map((s) => s.stop()));
} finally {
  if (kindUp) await kubeproof(['cluster', 'down', '--cluster', 'kind', '--name', kindName]).done;
  await cluster.down();
  rmSync(tmp, { recursive: true, force: true });
}

/** Where a kill landed: before the run changed anything, with only its Lease/namespace, with a fault in place, or after it ended. */
function killPoint(a) {
  if (!a.interrupted) return 'after the run ended';
  const changes = a.atKill.filter((l) => l.startsWith('+'));
  if (a.landedAtKill && a.family !== 'pod-kill') return 'a fault in place';
  if (changes.some((l) => /^\+ (node|pod) /.test(l))) return 'a fault in place';
  if (changes.length) return 'Lease, ledger or namespace only';
  return 'before any change';
}

const POINTS = ['before any change', 'Lease, ledger or namespace only', 'a fault in place', 'after the run ended'];
const rows = families.map((f) => {
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
  `\`node bench/interrupt.mjs --iterations ${iterations} --seed ${seed}${values.minutes ? ` --minutes ${values.minutes}` : ''}\` on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${minutes} min, ${attempts.length} of ${iterations} runs done${attempts.length < iterations ? (stopping ? ' (stopped by Ctrl-C)' : ' (the time limit came first)') : ''}: the experiment of`,
  '`test/integration/interrupt.test.ts` (which CI runs 21 times on KWOK nodes and once per real-node family) and of the kind',
  'part of `test/integration/kind.test.ts` (once per kind family), run many times: on one local cluster used as an existing',
  `cluster (the real-node families by \`--name\`)${realSkip ? `; real-node families not run: ${realSkip}` : ', with the real node'}${kindSkip ? `; kind families not run: ${kindSkip}` : ', and on one kind cluster'}.`,
  'Each run is one fault family in turn; every other round of the families is signalled 0–3 s after its fault',
  'is seen to land, the others at a seeded moment from spawn to about the end of the run; after SIGKILL,',
  '`kubeproof clean`. Then nodes, pods, namespaces, ledgers and Leases are compared with their state',
  'before the run, from watches of the bench itself; after a real-node run the host too (processes, mounts, links,',
  'iptables chains, host paths, kernel settings, cgroups), after a kind run the node containers (state, kubelet processes,',
  'stopped processes). Kill points: what the run had done when the signal came (a pod kill leaves no mark on a node or',
  'pod: its kills mid-fault count as namespace only; a container kill counts once a container of the run restarted).',
  '',
  '| family | runs | SIGINT / SIGKILL | signals (s after spawn) | before any change / Lease, ledger or namespace only / a fault in place / after the run ended | runs with leftovers |',
  '|---|---|---|---|---|---|',
  ...rows,
  `| **all** | ${attempts.length} | ${attempts.filter((a) => a.signal === 'SIGINT').length} / ${attempts.filter((a) => a.signal === 'SIGKILL').length} | | ${POINTS.map((p) => attempts.filter((a) => killPoint(a) === p).length).join(' / ')} | **${leftovers.length}** |`,
  '',
  leftovers.length
    ? `Leftovers found (the goal is none):\n\n${leftovers.map((l) => `- #${l.i} ${l.family} ${l.signal} at ${(l.delayMs / 1000).toFixed(1)} s: ${l.leftovers.join('; ')}`).join('\n')}`
    : 'Leftovers found: none.',
  '',
  failedAlone.length
    ? `Runs that ended before their signal and failed (a bench run must pass undisturbed): ${failedAlone.map((f) => `#${f.i} ${f.family} (exit ${f.code})`).join(', ')}.`
    : 'Runs that ended before their signal: all passed.',
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
