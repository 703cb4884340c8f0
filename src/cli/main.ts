/**
 * The kubeproof command line. Human text goes to stderr; stdout carries only what scripts
 * read (`cluster up` prints exactly `KUBECONFIG=<path>`). Exit codes: see src/errors.ts.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BadInputError, ExitCode, describeError, exitCodeOf } from '../errors.js';
import { stderrLog, formatDuration } from '../log.js';
import { kubeproofVersion } from '../project.js';

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  positionals?: boolean;
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

const help = { help: { type: 'boolean', short: 'h' } } as const;

function list(v: unknown): string[] {
  return typeof v === 'string' && v ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

function int(v: unknown, flag: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new BadInputError(`--${flag} must be a whole number ≥ ${min}, not "${String(v)}"`);
  return n;
}

const commands: Record<string, Command> = {
  run: {
    summary: 'run feature files against a cluster (default: the shipped features on a fresh local cluster)',
    usage: `kubeproof run [paths…] [--cluster local|kind|existing] [--context C] [--kubeconfig F] [--allow-context C]
              [--tags EXPR] [--name N] [--nodes 3] [--zones a,b,c] [--real-nodes N] [--keep] [--parallel N] [--reports DIR] [--upstream-timings] [--plan] [--allow-not-applicable] [--kind-image offline|IMAGE]
              [--config F] (default ./kubeproof.config.json: allowContexts, nodeCommands)`,
    options: {
      ...help,
      cluster: { type: 'string', default: 'local' },
      context: { type: 'string' },
      kubeconfig: { type: 'string' },
      'allow-context': { type: 'string', multiple: true },
      tags: { type: 'string' },
      name: { type: 'string' },
      nodes: { type: 'string' },
      zones: { type: 'string' },
      'real-nodes': { type: 'string' },
      keep: { type: 'boolean', default: false },
      parallel: { type: 'string' },
      reports: { type: 'string' },
      'upstream-timings': { type: 'boolean', default: false },
      plan: { type: 'boolean', default: false },
      'allow-not-applicable': { type: 'boolean', default: false },
      'kind-image': { type: 'string' },
      config: { type: 'string' },
    },
    positionals: true,
    async run(v, paths) {
      const cluster = String(v.cluster);
      if (!['local', 'kind', 'existing'].includes(cluster)) throw new BadInputError(`--cluster must be local, kind or existing, not "${cluster}"`);
      if ((v.context || v.kubeconfig) && cluster !== 'existing') throw new BadInputError('--context and --kubeconfig go with --cluster existing');
      const { run } = await import('../run/runner.js');
      const { loadProjectConfig } = await import('../cluster/providers/guard.js');
      const config = await loadProjectConfig(process.cwd(), v.config as string | undefined);
      return run({
        paths,
        cluster: cluster as 'local',
        context: v.context as string | undefined,
        kubeconfig: v.kubeconfig as string | undefined,
        tags: v.tags as string | undefined,
        name: v.name as string | undefined,
        keep: Boolean(v.keep),
        parallel: int(v.parallel, 'parallel', 1) ?? 1,
        allowContexts: [...config.allowContexts, ...((v['allow-context'] as string[] | undefined) ?? [])],
        reportsDir: (v.reports as string | undefined) ?? 'reports',
        nodes: int(v.nodes, 'nodes', 1) ?? 3,
        zones: v.zones === undefined ? ['a', 'b', 'c'] : list(v.zones),
        upstreamTimings: Boolean(v['upstream-timings']),
        cwd: process.cwd(),
        plan: Boolean(v.plan),
        realNodes: int(v['real-nodes'], 'real-nodes', 0),
        nodeCommands: config.nodeCommands,
        allowNotApplicable: Boolean(v['allow-not-applicable']),
        kindImage: (v['kind-image'] as string | undefined) ?? process.env.KUBEPROOF_KIND_IMAGE,
      });
    },
  },
  plan: {
    summary: 'walk the scenarios without injecting: print each fault\'s victims, governing PDBs and what stays up',
    usage: `kubeproof plan [paths…] (the options of kubeproof run; same as kubeproof run --plan)`,
    options: {},
    positionals: true,
    async run(v, paths) {
      return commands.run!.run({ ...v, plan: true }, paths);
    },
  },
  check: {
    summary: 'check features without a cluster: steps, arguments, needs, manifests, named objects (exit 0 or 2)',
    usage: 'kubeproof check [paths…] [--tags EXPR] [--json]',
    options: { ...help, tags: { type: 'string' }, json: { type: 'boolean', default: false } },
    positionals: true,
    async run(v, paths) {
      (await import('../kube/library.js')).withoutKubernetesClient('kubeproof check');
      (await import('./offline.js')).nativeMatchIndices();
      const { check } = await import('./check.js');
      return check({ paths, tags: v.tags as string | undefined, json: Boolean(v.json), cwd: process.cwd() });
    },
  },
  steps: {
    summary: 'list every step sentence with an example',
    usage: 'kubeproof steps [--json]',
    options: { ...help, json: { type: 'boolean', default: false } },
    async run(v) {
      const { renderVocabulary } = await import('./steps.js');
      process.stdout.write(await renderVocabulary({ json: Boolean(v.json) }));
      return ExitCode.ok;
    },
  },
  cluster: {
    summary: 'start, stop and list local (or kind) clusters (up | down | list)',
    usage: `kubeproof cluster up [--cluster local|kind] [--name N] [--nodes 3] [--zones a,b,c] [--real-nodes 1] [--upstream-timings] [--kind-image offline|IMAGE]
       kubeproof cluster down [--cluster local|kind] [--name N] [--keep]
       kubeproof cluster list`,
    options: {
      ...help,
      cluster: { type: 'string', default: 'local' },
      'kind-image': { type: 'string' },
      name: { type: 'string' },
      nodes: { type: 'string' },
      zones: { type: 'string' },
      'real-nodes': { type: 'string' },
      'upstream-timings': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
    positionals: true,
    async run(v, pos) {
      const { clusterUp, clusterDown, clusterList } = await import('./cluster.js');
      const [sub, ...rest] = pos;
      if (rest.length) throw new BadInputError(`unexpected argument "${rest[0]}"`);
      const { MADE_CLUSTER_KINDS } = await import('../cluster/providers/select.js');
      const kind = MADE_CLUSTER_KINDS.find((k) => k === String(v.cluster));
      if (!kind) throw new BadInputError(`--cluster must be ${MADE_CLUSTER_KINDS.join(' or ')} here, not "${String(v.cluster)}"`);
      switch (sub) {
        case 'up':
          return clusterUp({ kind, kindImage: (v['kind-image'] as string | undefined) ?? process.env.KUBEPROOF_KIND_IMAGE, name: v.name as string | undefined, nodes: int(v.nodes, 'nodes', 0) ?? 3, zones: v.zones === undefined ? ['a', 'b', 'c'] : list(v.zones), realNodes: int(v['real-nodes'], 'real-nodes', 1) ?? 0, upstreamTimings: Boolean(v['upstream-timings']) });
        case 'down':
          return clusterDown({ kind, name: v.name as string | undefined, keep: Boolean(v.keep) });
        case 'list':
          return clusterList();
        default:
          throw new BadInputError(sub ? `unknown cluster command "${sub}" (up, down, list)` : 'cluster needs a command: up, down or list');
      }
    },
  },
  image: {
    summary: 'load an image tarball (docker save / OCI archive) into the local cluster\'s real node',
    usage: 'kubeproof image load <tarball> [--name IMAGE] [--cluster NAME]',
    options: { ...help, name: { type: 'string' }, cluster: { type: 'string' } },
    positionals: true,
    async run(v, pos) {
      const [sub, tarball, ...rest] = pos;
      if (sub !== 'load' || !tarball || rest.length) throw new BadInputError('usage: kubeproof image load <tarball> [--name IMAGE] [--cluster NAME]');
      const { imageLoad } = await import('./image.js');
      return imageLoad({ tarball, name: v.name as string | undefined, cluster: v.cluster as string | undefined, log: stderrLog });
    },
  },
  clean: {
    summary: 'undo what interrupted runs left in a cluster (faults from the ledger, namespaces)',
    usage: `kubeproof clean [--run ID | --all] [--name LOCAL-CLUSTER | --kubeconfig F --context C [--allow-context C]]
              [--config F] (default ./kubeproof.config.json: allowContexts; a context is allowed as for run, before any request)`,
    options: { ...help, run: { type: 'string' }, all: { type: 'boolean', default: false }, name: { type: 'string' }, kubeconfig: { type: 'string' }, context: { type: 'string' }, 'allow-context': { type: 'string', multiple: true }, config: { type: 'string' } },
    async run(v) {
      const { clean } = await import('./clean.js');
      const name = v.name as string | undefined;
      // A local cluster is this machine's own: no allowlist to read.
      const allowContexts = name ? [] : [...(await (await import('../cluster/providers/guard.js')).loadProjectConfig(process.cwd(), v.config as string | undefined)).allowContexts, ...((v['allow-context'] as string[] | undefined) ?? [])];
      return clean({ run: v.run as string | undefined, all: Boolean(v.all), name, kubeconfig: v.kubeconfig as string | undefined, context: v.context as string | undefined, allowContexts, log: stderrLog });
    },
  },
  doctor: {
    summary: 'check what this machine can run: Go, cached binaries, kind/docker, kubeconfig',
    usage: 'kubeproof doctor',
    options: { ...help },
    async run() {
      const { doctor } = await import('./doctor.js');
      return doctor({ log: stderrLog, out: (line) => process.stdout.write(`${line}\n`) });
    },
  },
};

commands.plan!.options = commands.run!.options;

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    `kubeproof ${kubeproofVersion} — Kubernetes resilience scenarios with real faults and watch-based assertions`,
    '',
    'usage: kubeproof <command> [options]   (kubeproof <command> --help for its options)',
    '',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'exit codes: 0 passed · 1 a scenario failed · 2 bad input · 3 environment not ready · 4 cleanup incomplete · 130/143 interrupted',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stderr.write(`${usage()}\n`);
    return name ? ExitCode.ok : ExitCode.badInput;
  }
  if (name === '--version') {
    process.stdout.write(`${kubeproofVersion}\n`);
    return ExitCode.ok;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`kubeproof: unknown command "${name}"\n\n${usage()}\n`);
    return ExitCode.badInput;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: cmd.options, allowPositionals: Boolean(cmd.positionals), strict: true });
  } catch (err) {
    process.stderr.write(`kubeproof ${name}: ${(err as Error).message}\n\nusage: ${cmd.usage}\n`);
    return ExitCode.badInput;
  }
  if (parsed.values.help) {
    process.stderr.write(`${cmd.summary}\n\nusage: ${cmd.usage}\n`);
    return ExitCode.ok;
  }
  const t0 = Date.now();
  try {
    return await cmd.run(parsed.values, parsed.positionals);
  } catch (err) {
    process.stderr.write(`kubeproof ${name}: ${describeError(err)}\n`);
    if (exitCodeOf(err) === ExitCode.scenarioFailed && !(err instanceof BadInputError)) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    return exitCodeOf(err);
  } finally {
    if (name === 'cluster' && parsed.positionals[0] === 'up') process.stderr.write(`(${formatDuration(Date.now() - t0)})\n`);
  }
}
