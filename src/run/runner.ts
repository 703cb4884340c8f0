/**
 * `kubeproof run`: check the features, get a cluster, run every scenario through cucumber's
 * API in this process, write the reports, and leave the cluster as it was found.
 */
import { mkdir, rm, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runCucumber, type IRunConfiguration, type loadSupport } from '@cucumber/cucumber/api';
import type { Envelope } from '@cucumber/messages';
import { BadInputError, ExitCode, describeError, exitCodeOf } from '../errors.js';
import { stderrLog, formatDuration, type Log } from '../log.js';
import type { Cluster, ClusterKind } from '../cluster/providers/provider.js';
import { clusterFor } from '../cluster/providers/select.js';
import { guardContext } from '../cluster/providers/guard.js';
import { Kube } from '../kube/client.js';
import { RUN_LABEL } from '../workload/manifests.js';
import { revertRun } from '../ledger/ledger.js';
import { RunLease, orphanedRuns } from '../ledger/lease.js';
import { finishRun, describeRevert } from '../ledger/finish.js';
import { matchFeatures, formatProblem } from './match.js';
import { snapshotNodes, awaitLeftAsFound, kubeproofTraces, type NodeSnapshot } from '../ledger/residue.js';
import { SummaryCollector, buildRunSummary } from '../report/summary.js';
import { writeReports } from '../report/html.js';
import { renderConsoleSummary } from '../report/console.js';
import type { RunParameters } from './parameters.js';
import { kubeproofVersion } from '../project.js';

export interface RunOptions {
  paths: string[];
  cluster: ClusterKind;
  context?: string;
  kubeconfig?: string;
  tags?: string;
  name?: string;
  keep: boolean;
  parallel: number;
  allowContexts: string[];
  reportsDir: string;
  nodes: number;
  zones: string[];
  upstreamTimings: boolean;
  cwd: string;
  plan?: boolean;
  /** How to stop and start a node of an existing cluster (from kubeproof.config.json). */
  nodeCommands?: { stop: string; start: string };
  /** Real nodes for a fresh local cluster; undefined: 1 when a selected scenario is tagged @real and this machine can run one. */
  realNodes?: number;
  /** kind's node image (--kind-image): kind's own, 'offline', or a name. */
  kindImage?: string;
  /** Exit 0 even when no scenario passed (all not applicable or skipped): by default such a run tested nothing and is not green. */
  allowNotApplicable?: boolean;
}

/** Scenarios that need real containers carry this tag. */
export const REAL_TAG = '@real';

/** How long the nodes get to settle back after the last undo (controllers lift their taints asynchronously). */
const LEFT_AS_FOUND_WITHIN_MS = 30_000;

export function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${t}-${randomBytes(2).toString('hex')}`;
}

interface Validated {
  runConfiguration: IRunConfiguration;
  support: Awaited<ReturnType<typeof loadSupport>>;
  scenarios: number;
  /** Selected scenarios tagged @real. */
  realScenarios: number;
}

/** Parse the features and match every step before any cluster is touched: bad input is exit 2, with file:line. */
async function validate(opts: RunOptions, log: Log): Promise<Validated> {
  const m = await matchFeatures({ paths: opts.paths, tags: opts.tags, cwd: opts.cwd, parallel: opts.parallel, realTag: REAL_TAG });
  const unique = m.problems.map(formatProblem);
  if (unique.length) {
    const first = m.problems[0]!;
    throw new BadInputError(unique.length === 1 ? first.message : `${unique.length} steps cannot run (undefined, ambiguous or missing what they need):\n  ${unique.join('\n  ')}`, {
      where: { file: first.file, line: first.line },
    });
  }
  if (m.scenarios === 0) throw new BadInputError(`no scenario matches ${opts.paths.join(' ') || 'features/'}${opts.tags ? ` with tags ${opts.tags}` : ''}`);
  for (const n of m.notes) log(`note: ${formatProblem(n)}`);
  log(`${m.scenarios} scenario(s) in ${m.files} feature file(s)`);
  return { runConfiguration: m.runConfiguration, support: m.support, scenarios: m.scenarios, realScenarios: m.realScenarios };
}

/**
 * Real nodes for a fresh local cluster: as asked, or 1 when @real scenarios are selected and
 * this machine can run one (root, the packages, no other cluster holding the one real node).
 * Otherwise 0, and the @real scenarios report themselves not applicable, with the fix.
 */
async function realNodesFor(opts: RunOptions, realScenarios: number, log: Log): Promise<number> {
  if (opts.realNodes !== undefined) return opts.realNodes;
  if (realScenarios === 0) return 0;
  const { realNodeRequirements } = await import('../cluster/real-node/host.js');
  const { realNodeHolder } = await import('../cluster/real-node/teardown.js');
  const missing = (await realNodeRequirements()).filter((r) => !r.ok);
  const holder = await realNodeHolder();
  const other = holder ? { name: holder } : undefined;
  if (missing.length || other) {
    const why = missing.length ? `this machine lacks ${missing.map((m) => m.name).join(', ')}` : `cluster "${other!.name}" holds this machine's one real node`;
    log(`${realScenarios} ${REAL_TAG} scenario(s) selected, but no real node: ${why}; they will be reported not applicable`);
    return 0;
  }
  log(`${realScenarios} ${REAL_TAG} scenario(s) selected: starting the local cluster with 1 real node`);
  return 1;
}

/** The cluster for a run, and whether the run made it (and so stops it at the end). */
async function getCluster(opts: RunOptions, runId: string, log: Log, realScenarios = 0): Promise<{ cluster: Cluster; made: boolean }> {
  return clusterFor(
    {
      cluster: opts.cluster,
      name: opts.name,
      defaultName: { local: `run-${runId.slice(-4)}${runId.slice(9, 13)}`, kind: `kubeproof-${runId.slice(-4)}` },
      nodes: opts.nodes,
      zones: opts.zones,
      upstreamTimings: opts.upstreamTimings,
      kindImage: opts.kindImage,
      realNodes: () => realNodesFor(opts, realScenarios, log),
      realNodesAsked: opts.realNodes,
      realScenarios,
      kubeconfig: opts.kubeconfig ? resolve(opts.cwd, opts.kubeconfig) : undefined,
      kubeconfigAsGiven: opts.kubeconfig,
      context: opts.context,
      nodeCommands: opts.nodeCommands,
      allowContexts: opts.allowContexts,
    },
    log,
  );
}

/** Delete whatever namespaces of this run are left (an interrupted scenario's). */
async function deleteRunNamespaces(kube: Kube, runId: string): Promise<void> {
  const list = await kube.list('Namespace', { labelSelector: `${RUN_LABEL}=${runId}` });
  await Promise.all(list.items.map((ns) => kube.delete('Namespace', ns.metadata!.name!).catch(() => undefined)));
}

/** The exit code of a run stopped by a signal: 130 for SIGINT (Ctrl-C), 143 for SIGTERM. */
const exitCodeFor = (sig: NodeJS.Signals): number => (sig === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated);

export async function run(opts: RunOptions, log: Log = stderrLog): Promise<number> {
  const runId = newRunId();
  const started = new Date();
  const validated = await validate(opts, log);

  // A signal while the cluster is being made (kind create, kwokctl create take a minute) waits
  // for it, then removes what this run made: dying at once orphaned the cluster being created.
  let whileMaking: NodeJS.Signals | undefined;
  const onEarlySignal = (sig: NodeJS.Signals) => {
    if (whileMaking) return;
    whileMaking = sig;
    log(`\n${sig}: stopping once the cluster being made is ready to be removed…`);
  };
  process.on('SIGINT', onEarlySignal);
  process.on('SIGTERM', onEarlySignal);
  let got: Awaited<ReturnType<typeof getCluster>>;
  try {
    got = await getCluster(opts, runId, log, validated.realScenarios);
  } catch (err) {
    if (whileMaking) {
      log(`the cluster was not made (${describeError(err)})`);
      process.exit(exitCodeFor(whileMaking));
    }
    throw err;
  } finally {
    process.off('SIGINT', onEarlySignal);
    process.off('SIGTERM', onEarlySignal);
  }
  const { cluster, made } = got;
  if (whileMaking) {
    if (made && !opts.keep) await cluster.down().then(() => log(`cluster ${cluster.name} removed`), (err) => log(`could not stop cluster ${cluster.name}: ${describeError(err)}`));
    process.exit(exitCodeFor(whileMaking));
  }
  const kube = Kube.fromKubeconfig(cluster.kubeconfigPath, cluster.context);
  let interrupted: NodeJS.Signals | undefined;
  let lease: RunLease | undefined;
  let before: NodeSnapshot | undefined;
  let undone: Promise<string[]> | undefined;
  /** Undo the run (idempotent): ledger, Lease, namespaces; then what still differs from the nodes as found. */
  const undoRun = (): Promise<string[]> =>
    (undone ??= (async () => {
      // Whatever a scenario could not undo (or an interrupted one left) is still in the ledger.
      for (const r of await revertRun(kube, runId).catch(() => [])) log(`undo ${describeRevert(r)}`);
      await lease?.release().catch(() => undefined);
      await deleteRunNamespaces(kube, runId).catch((err) => log(`could not delete the run's namespaces: ${describeError(err)}`));
      if (!before || opts.plan) return [];
      const diff = await awaitLeftAsFound(kube, before, LEFT_AS_FOUND_WITHIN_MS).catch((err) => [`could not check the nodes: ${describeError(err)}`]);
      // A cluster kubeproof does not own changes under other hands too: there, only kubeproof's own traces count.
      const residue = cluster.capabilities.othersChangeNodes ? kubeproofTraces(diff) : diff;
      for (const d of diff.filter((x) => !residue.includes(x))) log(`note: ${d} (not kubeproof's doing, left alone)`);
      if (residue.length) log(`the cluster is NOT as the run found it:\n  ${residue.join('\n  ')}`);
      else log(`cluster left as found: ${before.size} node(s) checked`);
      return residue;
    })());
  const stopCluster = async () => {
    if (made && !opts.keep) await cluster.down().catch((err) => log(`could not stop cluster ${cluster.name}: ${describeError(err)}`));
    else if (!cluster.capabilities.othersChangeNodes) log(`cluster ${made ? 'kept' : 'left running'}: export KUBECONFIG=${cluster.kubeconfigPath}`);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = sig;
    log(`\n${sig}: undoing this run's changes and stopping…`);
    void undoRun()
      .then(stopCluster)
      .finally(() => process.exit(exitCodeFor(sig)));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const fingerprint = await guardContext({ kube, clusterKind: cluster.kind, context: cluster.context, allowContexts: opts.allowContexts });
    // Finish what dead runs left behind in this cluster (their Lease expired), then hold our own.
    for (const dead of await orphanedRuns(kube)) {
      const report = await finishRun(kube, dead);
      for (const r of report.reverts) log(`left by run ${dead}: ${describeRevert(r)}`);
    }
    before = await snapshotNodes(kube);
    lease = await RunLease.acquire(kube, runId);
    const dir = resolve(opts.reportsDir, runId);
    await mkdir(dir, { recursive: true });
    const parameters: RunParameters = {
      runId,
      projectDir: opts.cwd,
      cluster: {
        kind: cluster.kind,
        name: cluster.name,
        kubeconfigPath: cluster.kubeconfigPath,
        context: cluster.context,
        apiServerUrl: cluster.apiServerUrl,
        serverVersion: cluster.serverVersion,
        timings: cluster.timings,
        capabilities: cluster.capabilities,
        nodes: cluster.nodes,
        ...(cluster.nodeCommands ? { nodeCommands: cluster.nodeCommands } : {}),
      },
      kubeSystemUid: fingerprint.kubeSystemUid,
      plan: Boolean(opts.plan),
    };
    const collector = new SummaryCollector();
    const exceptionTypes: string[] = [];
    const { runConfiguration, support } = validated;
    log(`run ${runId} on ${cluster.kind} cluster "${cluster.name}" (context ${cluster.context}, Kubernetes ${cluster.serverVersion})${opts.plan ? ' — plan only: no fault is injected' : ''}`);
    const result = await runCucumber(
      {
        ...runConfiguration,
        support,
        runtime: { ...runConfiguration.runtime, worldParameters: parameters as never },
        formats: {
          stdout: 'progress',
          files: { [join(dir, 'cucumber.html')]: 'html', [join(dir, 'junit.xml')]: 'junit', [join(dir, 'messages.ndjson')]: 'message' },
          publish: false,
          options: {},
        },
      },
      { cwd: opts.cwd },
      (env: Envelope) => {
        collector.onMessage(env);
        const ex = env.testStepFinished?.testStepResult.exception;
        if (ex?.type) exceptionTypes.push(ex.type);
      },
    );
    const residue = interrupted ? [] : await undoRun();
    const scenarios = collector.scenarios();
    let exitCode: number = result.success ? ExitCode.ok : ExitCode.scenarioFailed;
    if (exceptionTypes.includes('BadInputError')) exitCode = ExitCode.badInput;
    else if (exceptionTypes.includes('EnvironmentError')) exitCode = ExitCode.environment;
    if (residue.length || scenarios.some((s) => s.error?.startsWith('cleanup incomplete'))) exitCode = ExitCode.cleanupIncomplete;
    const testedNothing = !opts.plan && !interrupted && exitCode === ExitCode.ok && !scenarios.some((s) => s.status === 'passed');
    if (testedNothing) {
      const why = scenarios.length ? `${scenarios.length} scenario(s), none passed (${[...new Set(scenarios.map((s) => s.status))].join(', ')})` : 'no scenario was selected';
      if (opts.allowNotApplicable) log(`nothing was tested: ${why}; exit 0 as --allow-not-applicable asks`);
      else {
        log(`nothing was tested: ${why}; this run is not green (--allow-not-applicable accepts it)`);
        exitCode = ExitCode.scenarioFailed;
      }
    }
    const summary = buildRunSummary({
      runId,
      startedAt: started,
      finishedAt: new Date(),
      kubeproofVersion,
      cluster: { kind: cluster.kind, name: cluster.name, context: cluster.context, serverVersion: cluster.serverVersion, timings: cluster.timings },
      scenarios,
      exitCode,
      leftAsFound: { checked: !opts.plan, nodes: before.size, residue },
    });
    const paths = await writeReports(dir, summary);
    const latest = join(opts.reportsDir, 'latest');
    await rm(latest, { force: true });
    await symlink(runId, latest).catch(() => undefined);
    process.stdout.write(`\n${renderConsoleSummary(summary, { color: Boolean(process.stdout.isTTY) })}\n`);
    log(`reports: ${dir} (timeline: ${paths.timelinePath}); run took ${formatDuration(Date.now() - started.getTime())}`);
    return exitCode;
  } catch (err) {
    log(describeError(err));
    return exitCodeOf(err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!interrupted) {
      await undoRun();
      await stopCluster();
    }
  }
}
