/**
 * An existing cluster, by kubeconfig context (game days on staging). kubeproof creates and
 * deletes nothing of it; whether it may touch it at all is the context guard's decision.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { execa } from 'execa';
import { BadInputError, EnvironmentError, KubeproofError } from '../../errors.js';
import { stderrLog, type Log } from '../../log.js';
import { Kube } from '../../kube/client.js';
import { isApiError } from '../../kube/errors.js';
import type { Node } from '../../kube/types.js';
import { UPSTREAM_TIMINGS, type Cluster, ClusterCapabilities, ClusterProvider, ClusterTimings, ClusterUpOptions, NodeCommandLines, NodeSpec } from './provider.js';

/**
 * Shell commands that stop and start one node of the cluster (a cloud CLI, ssh + systemctl…).
 * `{node}` is replaced with the node name, which is also in the environment as KUBEPROOF_NODE.
 */
export interface NodeCommands {
  stop: string;
  start: string;
}

export interface ExistingProviderOptions {
  /** A kubeconfig file; KUBECONFIG or ~/.kube/config when not given. */
  kubeconfigPath?: string;
  /** A context of that kubeconfig; its current context when not given. */
  context?: string;
  nodeCommands?: NodeCommands;
}

/** Node names are DNS subdomains, so one can go into a shell command without quoting. */
const NODE_NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function nodeCommandLine(template: string, node: string): string {
  if (!NODE_NAME_RE.test(node)) throw new BadInputError(`"${node}" is not a valid node name`);
  return template.replaceAll('{node}', node);
}

/** The kubeconfig files kubectl would read: $KUBECONFIG (a path list) or ~/.kube/config. */
function defaultKubeconfigFiles(): string[] {
  const env = process.env.KUBECONFIG;
  if (env) return env.split(delimiter).filter(Boolean).map((p) => resolve(p));
  return [join(homedir(), '.kube', 'config')];
}

export class ExistingCluster implements Cluster {
  readonly kind = 'existing' as const;
  readonly capabilities: ClusterCapabilities;
  readonly nodeCommands: NodeCommandLines | undefined;
  readonly timings: ClusterTimings = { ...UPSTREAM_TIMINGS, source: 'assumed-upstream-defaults' };

  constructor(
    readonly context: string,
    readonly kubeconfigPath: string,
    readonly apiServerUrl: string,
    readonly serverVersion: string,
    readonly nodes: string[],
    private readonly commands: NodeCommands | undefined,
    /** A merged kubeconfig kubeproof wrote (KUBECONFIG listed several files); removed by down(). */
    private readonly ownKubeconfigDir: string | undefined,
    private readonly log: Log,
  ) {
    this.nodeCommands = commands ? { stop: ['sh', '-c', commands.stop], start: ['sh', '-c', commands.start] } : undefined;
    this.capabilities = {
      realContainers: true,
      realNodes: [...nodes],
      canStopNode: commands !== undefined,
      readinessMechanism: 'app-endpoint',
      metricsSource: 'unknown',
      simulatedNodes: false,
    };
  }

  get name(): string {
    return this.context;
  }

  async addNodes(specs: NodeSpec[]): Promise<void> {
    throw new BadInputError(`kubeproof cannot add nodes to an existing cluster (asked for ${specs.map((s) => s.name).join(', ') || 'none'})`);
  }

  async stopNode(node: string): Promise<void> {
    await this.runNodeCommand('stop', node);
  }

  async startNode(node: string): Promise<void> {
    await this.runNodeCommand('start', node);
  }

  private async runNodeCommand(verb: keyof NodeCommands, node: string): Promise<void> {
    if (!this.commands) throw new BadInputError(`no command to ${verb} a node of context ${this.context} is configured`);
    const line = nodeCommandLine(this.commands[verb], node);
    this.log(`${verb} node ${node}: ${line}`);
    const r = await execa(line, { shell: true, reject: false, all: true, env: { KUBEPROOF_NODE: node } });
    if (r.exitCode !== 0) {
      throw new EnvironmentError(`the command to ${verb} node ${node} failed (exit code ${r.exitCode ?? r.code}): ${String(r.all ?? '').trim().split('\n').slice(-10).join('\n')}`, {
        hint: `command: ${line}`,
      });
    }
  }

  /** Leaves the cluster as it is; only removes a kubeconfig kubeproof wrote itself. */
  async down(): Promise<void> {
    if (this.ownKubeconfigDir) await rm(this.ownKubeconfigDir, { recursive: true, force: true });
  }
}

export class ExistingProvider implements ClusterProvider {
  readonly kind = 'existing' as const;

  constructor(private readonly opts: ExistingProviderOptions = {}) {}

  async up(upOpts: ClusterUpOptions = {}): Promise<ExistingCluster> {
    const log = upOpts.log ?? stderrLog;
    const given = this.opts.kubeconfigPath ? resolve(this.opts.kubeconfigPath) : undefined;
    const files = given ? [given] : defaultKubeconfigFiles();
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0) {
      throw new EnvironmentError(`no kubeconfig: ${files.join(', ')} ${files.length === 1 ? 'does' : 'do'} not exist`, {
        hint: 'pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config',
      });
    }
    // Several files (KUBECONFIG=a:b) are merged by the client; the rest of kubeproof wants one file.
    const kube = Kube.fromKubeconfig(present.length === 1 ? present[0] : undefined, this.opts.context);
    const context = kube.contextName;
    if (!context) throw new EnvironmentError(`kubeconfig ${present.join(', ')} has no current context`, { hint: 'pass --context' });

    const serverVersion = await reachable(kube);
    const nodes = await nodeNames(kube);

    let kubeconfigPath = present[0]!;
    let ownKubeconfigDir: string | undefined;
    if (present.length > 1) {
      ownKubeconfigDir = await mkdtemp(join(tmpdir(), 'kubeproof-existing-'));
      kubeconfigPath = join(ownKubeconfigDir, 'kubeconfig');
      await writeFile(kubeconfigPath, kube.config.exportConfig(), { mode: 0o600 });
    }
    log(`existing cluster: context ${context} at ${kube.serverUrl} (Kubernetes ${serverVersion}, ${nodes.length} node(s))`);
    return new ExistingCluster(context, kubeconfigPath, kube.serverUrl, serverVersion, nodes, this.opts.nodeCommands, ownKubeconfigDir, log);
  }
}

/** The server's version; any failure to get it (network, TLS, credentials) is an EnvironmentError naming server and context. */
async function reachable(kube: Kube): Promise<string> {
  try {
    return await kube.serverVersion();
  } catch (err) {
    if (err instanceof KubeproofError) throw err;
    throw new EnvironmentError(`the API server at ${kube.serverUrl} (context ${kube.contextName}) did not answer: ${(err as Error).message}`, {
      cause: err,
      hint: 'check the context with `kubectl --context ' + kube.contextName + ' version`',
    });
  }
}

async function nodeNames(kube: Kube): Promise<string[]> {
  try {
    const list = await kube.list<Node>('Node');
    return list.items.map((n) => n.metadata?.name ?? '').filter(Boolean).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  } catch (err) {
    if (isApiError(err, 403) || isApiError(err, 401)) {
      throw new EnvironmentError(`the credentials of context ${kube.contextName} may not list nodes: ${err.message}`, {
        hint: 'kubeproof needs to read nodes (and change the objects its scenarios touch); use a context with those rights',
      });
    }
    throw err;
  }
}
