/**
 * Requests sent from a client pod inside the cluster's network: where this machine cannot
 * reach ClusterIPs (kind: they live inside its Docker network), what a client of the Service
 * sees is what a pod sees. kubeproof runs the test app's `client` mode (images/testapp/
 * client.go) as a pod in the scenario's own namespace, GETting the Service's ClusterIP (not
 * its DNS name: a CoreDNS pod on a worker that a fault takes down would count as the
 * Service's outage), a new connection per request, and reads its results by following the
 * pod's log through the API: one JSON line per request.
 *
 * Why this path is honest: the requests go through the same kube-proxy rules and pod network
 * as any in-cluster client's, from a node that the scenario's faults do not touch (the
 * provider places the pod, e.g. on kind's control-plane node, so a worker taken down does not
 * take the measuring client with it), and a request that gets no answer counts as failed.
 * The send times come from the node's clock: kind's nodes are containers sharing this
 * machine's kernel, hence its clock, so they line up with the timeline's watch events.
 *
 * Nothing to undo: the pod lives in the scenario's namespace, which is deleted when the
 * scenario ends and by `kubeproof clean` after a SIGKILL (like the workloads the scenario
 * applied), and it stops by itself after the plan's maximum duration (activeDeadlineSeconds
 * as well), so a pod left behind ends on its own.
 */
import { randomBytes } from 'node:crypto';
import { isNotFound } from '../kube/errors.js';
import { now } from '../kube/informer.js';
import type { Pod } from '../kube/types.js';
import { until } from '../wait/until.js';
import { TrafficSender, type HttpResult, type TrafficContext, type TrafficPlan } from './stream.js';

export const CLIENT_CONTAINER = 'client';
/** On every client pod (its value: the plan's purpose); no Service selects it. */
export const TRAFFIC_CLIENT_LABEL = 'kubeproof.io/traffic-client';

/** Where the provider puts client pods, and why, in words. */
export interface ClientPodPlacement {
  /** "on the control-plane node" */
  where: string;
  nodeSelector: Record<string, string>;
  tolerations: Array<{ key: string; operator: 'Exists' | 'Equal'; value?: string; effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }>;
}

export interface ClientPodOptions {
  /** The test app's image, already on the nodes (no registry). */
  image: string;
  placement: ClientPodPlacement;
  /** The Service's name, for the pod's name. */
  service: string;
}

/** One line of the client's output. */
export type ClientLine =
  | { kind: 'result'; seq: number; result: HttpResult }
  | { kind: 'start'; at: number; url: string }
  | { kind: 'end'; at: number; sent: number; skipped: number; reason: string };

/** Parse one line the client printed; undefined for anything else (a line that is not its JSON). */
export function parseClientLine(line: string): ClientLine | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const num = (k: string) => (typeof v[k] === 'number' && Number.isFinite(v[k]) ? (v[k] as number) : undefined);
  const str = (k: string) => (typeof v[k] === 'string' && v[k] !== '' ? (v[k] as string) : undefined);
  if (v.event === 'start' && num('at') !== undefined) return { kind: 'start', at: num('at')!, url: str('url') ?? '' };
  if (v.event === 'end' && num('at') !== undefined) return { kind: 'end', at: num('at')!, sent: num('sent') ?? 0, skipped: num('skipped') ?? 0, reason: str('reason') ?? '' };
  const seq = num('seq');
  const at = num('at');
  const latencyMs = num('latencyMs');
  if (seq === undefined || at === undefined || latencyMs === undefined || typeof v.ok !== 'boolean') return undefined;
  const status = num('status');
  const pod = str('pod');
  const error = str('error');
  return { kind: 'result', seq, result: { at, ok: v.ok, latencyMs, ...(status !== undefined ? { status } : {}), ...(pod ? { pod } : {}), ...(error ? { error } : {}) } };
}

/** A DNS-1123 name: traffic-<purpose>-<service>-<random>, at most 63 characters. */
export function clientPodName(purpose: string, service: string): string {
  const clean = (t: string) => t.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const suffix = randomBytes(3).toString('hex');
  return `traffic-${clean(purpose)}-${clean(service)}`.slice(0, 63 - suffix.length - 1).replace(/-+$/, '') + `-${suffix}`;
}

/** The client pod: small, no API credentials, never restarted, ending by itself. */
export function clientPodManifest(name: string, namespace: string, url: string, plan: TrafficPlan, o: ClientPodOptions): Pod {
  const durationS = Math.max(1, Math.ceil(plan.maxDurationMs / 1000));
  const graceS = Math.ceil(plan.timeoutMs / 1000) + 5;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { [TRAFFIC_CLIENT_LABEL]: plan.purpose } },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: graceS,
      // The client stops itself after durationS; the kubelet ends it a minute later if it did not.
      activeDeadlineSeconds: durationS + 60,
      nodeSelector: o.placement.nodeSelector,
      tolerations: o.placement.tolerations,
      containers: [
        {
          name: CLIENT_CONTAINER,
          image: o.image,
          imagePullPolicy: 'IfNotPresent',
          args: ['client', '--url', url, '--rate', String(plan.ratePerSecond), '--timeout-ms', String(plan.timeoutMs), '--max-in-flight', String(plan.maxInFlight), '--duration-s', String(durationS)],
          // No CPU limit: throttling would show up as the Service's latency.
          resources: { requests: { cpu: '20m', memory: '16Mi' }, limits: { memory: '64Mi' } },
          securityContext: { runAsNonRoot: true, runAsUser: 65534, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  };
}

const STOP_WITHIN_MS = 20_000;

export class ClientPodTraffic extends TrafficSender {
  readonly podName: string;
  private node: string | undefined;
  /** Lines of the log already read: a follow that reconnects reads the log from its start again and skips these. */
  private linesRead = 0;
  private linesThisFollow = 0;
  private stopFollow: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private ended: { sent: number; skipped: number; reason: string } | undefined;
  private readonly endWaiters: Array<() => void> = [];
  private reconnects = 0;

  constructor(
    private readonly ctx: TrafficContext,
    readonly url: string,
    private readonly plan: TrafficPlan,
    private readonly o: ClientPodOptions,
  ) {
    super();
    this.podName = clientPodName(plan.purpose, o.service);
  }

  get from(): string {
    return `from client pod ${this.podName} on node ${this.node ?? '(not scheduled yet)'} (${this.o.placement.where}), inside the cluster's network`;
  }

  /** Requests the client counted as sent, when it said (its last line). */
  get sent(): number | undefined {
    return this.ended?.sent;
  }

  async start(withinMs: number): Promise<void> {
    const deadline = now() + withinMs;
    const { kube, namespace, pods } = this.ctx;
    await kube.create(clientPodManifest(this.podName, namespace, this.url, this.plan, this.o));
    // Started (or already ended): seen on the namespace's pod watch, not polled.
    const started = await until(
      {
        description: `traffic client pod ${this.podName} started`,
        sources: [pods],
        evaluate: () => {
          const p = pods.get(this.podName, namespace);
          const st = p?.status?.containerStatuses?.find((c) => c.name === CLIENT_CONTAINER)?.state;
          const unscheduled = p?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
          const observed = !p ? 'not seen yet' : `${p.status?.phase ?? '?'} on ${p.spec?.nodeName ?? 'no node'}${st?.waiting ? `, waiting: ${st.waiting.reason ?? ''} ${st.waiting.message ?? ''}` : ''}${unscheduled ? `, unschedulable: ${unscheduled.message ?? ''}` : ''}`;
          return { ok: Boolean(st?.running || st?.terminated), observed };
        },
      },
      { within: Math.max(1, deadline - now()) },
    );
    const pod = pods.get(this.podName, namespace);
    this.node = pod?.spec?.nodeName;
    const terminated = pod?.status?.containerStatuses?.find((c) => c.name === CLIENT_CONTAINER)?.state?.terminated;
    if (terminated && terminated.exitCode !== 0) throw new Error(`traffic client pod ${this.podName} ended at once: exit code ${terminated.exitCode} ${terminated.reason ?? ''} ${terminated.message ?? ''} (${started.observed})`);
    await this.follow();
    await this.firstResult(Math.max(1, deadline - now()), `GET ${this.url} ${this.from}`);
  }

  private async follow(): Promise<void> {
    this.linesThisFollow = 0;
    this.stopFollow = await this.ctx.kube.followLog(
      this.ctx.namespace,
      this.podName,
      CLIENT_CONTAINER,
      (line) => this.onLine(line),
      (err) => void this.onFollowEnd(err),
    );
  }

  private onLine(line: string): void {
    if (++this.linesThisFollow <= this.linesRead) return;
    this.linesRead = this.linesThisFollow;
    const m = parseClientLine(line);
    if (!m) return;
    if (m.kind === 'result') this.emit(m.result);
    else if (m.kind === 'end') {
      this.ended = { sent: m.sent, skipped: m.skipped, reason: m.reason };
      this.skipped = m.skipped;
      if (!this.stopping) this.trouble ??= m.reason === 'duration' ? `the client stopped by itself after ${Math.ceil(this.plan.maxDurationMs / 1000)} s` : `the client stopped (${m.reason}) before kubeproof stopped it`;
    }
  }

  /** The log stream ended: stopped by us, the client ended, or the connection broke (follow again while the pod runs). */
  private async onFollowEnd(err: unknown): Promise<void> {
    if (this.stopping || this.ended) return this.wake();
    const pod = await this.ctx.kube.find<Pod>('Pod', this.podName, this.ctx.namespace).catch(() => undefined);
    const st = pod?.status?.containerStatuses?.find((c) => c.name === CLIENT_CONTAINER)?.state;
    if (!this.stopping && pod && st?.running && this.reconnects < 20) {
      this.reconnects++;
      // A broken connection is retried after a short back-off (not a wait for a state: the follow is the event stream).
      await new Promise((r) => setTimeout(r, 250 * this.reconnects));
      if (!this.stopping) {
        try {
          return await this.follow();
        } catch (e) {
          err = e;
        }
      }
    }
    if (!this.stopping) {
      this.trouble ??= `traffic client pod ${this.podName} ${!pod ? 'is gone' : st?.terminated ? `ended (exit code ${st.terminated.exitCode}${st.terminated.reason ? `, ${st.terminated.reason}` : ''})` : 'could not be followed'}${err ? `: ${(err as Error).message ?? String(err)}` : ''}`;
      this.failFirst?.(this.trouble);
    }
    this.wake();
  }

  private wake(): void {
    for (const w of this.endWaiters.splice(0)) w();
  }

  /** Delete the pod: SIGTERM makes the client stop sending, finish its requests in flight and print its last line; resolves once the log has ended. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const ended = new Promise<void>((resolve) => {
        if (this.ended || !this.stopFollow) return resolve();
        this.endWaiters.push(resolve);
      });
      try {
        await this.ctx.kube.delete('Pod', this.podName, this.ctx.namespace);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([ended, new Promise<void>((r) => (timer = setTimeout(r, STOP_WITHIN_MS)))]);
      clearTimeout(timer);
      this.stopFollow?.();
    })();
    return this.stopping;
  }
}
