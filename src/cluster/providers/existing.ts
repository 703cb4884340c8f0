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
import { commandStop } from './node-commands.js';
import { assertContextAllowed } from './guard.js';
import { appSwitchBreaker, neverReadyPatch } from '../readiness.js';
import { UPSTREAM_TIMINGS, type ClusterParts, type NodeStopMode, type Cluster, ClusterCapabilities, ClusterProvider, ClusterTimings, ClusterUpOptions, NodeCommandLines, NodeSpec } from './provider.js';

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
  /** Contexts kubeproof may act on: any other is refused from the kubeconfig alone, before a request reaches its server. */
  allowContexts?: string[];
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

/**
 * An existing cluster's parts: its nodes go down only by the commands configured for it
 * (e.g. over ssh); kubeproof reaches neither its container runtime nor its Service network.
 */
export function existingParts(c: { context: string; nodeCommands?: NodeCommandLines }): ClusterParts {
  const none = (what: string) => ({ refused: `kubeproof has no way to ${what} on context ${c.context}` });
  return {
    nodeControl: {
      mechanism(mode: NodeStopMode, n: Node) {
        const node = n.metadata!.name!;
        if (mode !== 'silent') return none(mode === 'kubelet' ? `stop a kubelet (configure "nodeCommands" to take a node down instead)` : mode === 'freeze' ? 'freeze a node' : 'make a node report NotReady while up');
        if (!c.nodeCommands) return { refused: `the existing cluster behind context ${c.context} gives kubeproof no way to stop a node (configure "nodeCommands" {"stop", "start"} in kubeproof.config.json)` };
        return commandStop(node, c.nodeCommands, { phase: 'node stopped', how: 'run its stop command', silent: true });
      },
    },
    containerRuntime: none("kill a container's process (its container runtime is out of reach)"),
    serviceTraffic: none('send HTTP to a Service from this machine'),
    imageLoader: none('load an image into its nodes (push it to a registry they pull from)'),
    readiness: { breaker: appSwitchBreaker, neverReady: (d) => neverReadyPatch(d, false) },
    // Its pods use real CPU: load is real work through the Service, which the traffic part must reach.
    load: { mechanism: () => ({ via: 'service-http', how: 'as real work: HTTP GET /burn through its Service' }) },
    nodeSupply: { refused: `kubeproof cannot add nodes to the existing cluster behind context ${c.context}` },
    realNode: { whyNone: async () => `needs a node with real containers; this existing cluster reports none` },
  };
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
      othersChangeNodes: true,
    };
  }

  get name(): string {
    return this.context;
  }

  async addNodes(specs: NodeSpec[]): Promise<void> {
    throw new BadInputError(`kubeproof cannot add nodes to an existing cluster (asked for ${specs.map((s) => s.name).join(', ') || 'none'})`);
  }

  get parts(): ClusterParts {
    return existingParts({ context: this.context, nodeCommands: this.nodeCommands });
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
    if (this.opts.allowContexts) assertContextAllowed('existing', context, this.opts.allowContexts);

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
