/**
 * Requests sent to a Service, and their results as they come: what both the availability
 * probe (probes/http.ts) and the real CPU load (faults/http-load.ts) are made of. Who sends
 * them is the cluster's traffic part (ServiceTraffic in cluster/providers/provider.ts): this
 * process where the host routes ClusterIPs (in-process.ts), a client pod inside the cluster's
 * network where it cannot (client-pod.ts). The figures made from the results do not depend on
 * who sent them; each stream says where its requests came from.
 */
import type { Kube } from '../kube/client.js';
import type { Informer } from '../kube/informer.js';
import type { Pod, Service } from '../kube/types.js';
import type { Refusal } from '../cluster/providers/provider.js';

export interface HttpResult {
  /** Epoch ms the request was sent. */
  at: number;
  ok: boolean;
  latencyMs: number;
  status?: number;
  /** The pod that answered, when the body names it. */
  pod?: string;
  error?: string;
}

/** What to send: GET `path` `ratePerSecond` times a second, each on a new connection. */
export interface TrafficPlan {
  /** Path and query on the Service, e.g. "/" or "/burn?ms=100". */
  path: string;
  ratePerSecond: number;
  /** A request with no answer by then is a failure ("no answer within … ms"). */
  timeoutMs: number;
  /** At most this many requests at once; a tick that finds them all busy is skipped (and counted). */
  maxInFlight: number;
  /** The sender stops by itself after this long (a leaked client ends on its own). */
  maxDurationMs: number;
  /** A word for names and reports: "availability", "load". */
  purpose: string;
}

export interface TrafficContext {
  kube: Kube;
  /** The scenario's namespace: the client pod goes with it. */
  namespace: string;
  /** A watch on that namespace's pods (the scenario's): the client's start is awaited on it. */
  pods: Informer<Pod>;
}

/** Requests under way and their results as they come. */
export interface TrafficStream {
  /** What each request asks for, e.g. http://10.96.0.12:80/. */
  readonly url: string;
  /** Where the requests come from, in words ("from this machine", "from client pod … on node …"). */
  readonly from: string;
  /** Requests not sent because `maxInFlight` were under way. */
  readonly skipped: number;
  /** Why the stream ended before `stop` (the client pod died, say): its results stop there. */
  readonly trouble: string | undefined;
  /** Begin sending; resolves with the first result (sending works), rejects after `withinMs`. */
  start(withinMs: number): Promise<void>;
  /** Every result, in the order they arrive (not necessarily send order). */
  on(listener: (r: HttpResult) => void): () => void;
  /** Stop sending; resolves when no further result will come. */
  stop(): Promise<void>;
}

/** The test app's body names the pod that answered: `pod=<name>`. */
export const POD_IN_BODY = /pod=(\S+)/;

/** `http://<ClusterIP>:<port><path>` of a Service, or why it has none. */
export function clusterIpUrl(svc: Service, path: string): string | Refusal {
  const ip = svc.spec?.clusterIP;
  const port = svc.spec?.ports?.[0]?.port;
  if (!ip || ip === 'None' || !port) return { refused: `service ${svc.metadata?.name} has no ClusterIP and port` };
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return `http://${host}:${port}${path.startsWith('/') ? path : `/${path}`}`;
}

/** Listeners and the first-result wait, shared by the senders. */
export abstract class TrafficSender implements TrafficStream {
  private readonly listeners = new Set<(r: HttpResult) => void>();
  skipped = 0;
  trouble: string | undefined;
  private firstSeen = false;
  private firstWaiters: Array<() => void> = [];
  abstract readonly url: string;
  abstract readonly from: string;
  abstract start(withinMs: number): Promise<void>;
  abstract stop(): Promise<void>;

  on(listener: (r: HttpResult) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected emit(r: HttpResult): void {
    if (!this.firstSeen) {
      this.firstSeen = true;
      for (const w of this.firstWaiters.splice(0)) w();
    }
    for (const l of this.listeners) l(r);
  }

  /** Resolves at the first result (an event, not a poll), rejects after `withinMs` or when `failed()` names a reason. */
  protected firstResult(withinMs: number, what: string): Promise<void> {
    if (this.firstSeen) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: no result within ${withinMs} ms${this.trouble ? ` (${this.trouble})` : ''}`)), withinMs);
      this.firstWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.failFirst = (reason: string) => {
        clearTimeout(timer);
        reject(new Error(`${what}: ${reason}`));
      };
    });
  }

  /** Set while a first-result wait is open: ends it with a reason. */
  protected failFirst: ((reason: string) => void) | undefined;
}
