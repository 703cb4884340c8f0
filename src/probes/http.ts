/**
 * What a client of a Service saw: figures over HTTP requests through the Service, whoever
 * sent them (the cluster's traffic part: this process where the host routes ClusterIPs, a
 * client pod inside the cluster's network where it cannot; traffic/). The figures are the
 * same either way; each says where its requests came from.
 *
 * Each request opens its own connection (no keep-alive): kube-proxy balances per connection,
 * so every request is balanced afresh and a pod removed from the endpoints stops getting new
 * requests as soon as the rules change. The test app names the pod that answered
 * (`pod=<name>` in its body), so the responses say which pods served.
 */
import { now, type Change } from '../kube/informer.js';
import { stats, type Stats } from '../timeline/stats.js';
import type { HttpResult, TrafficStream } from '../traffic/stream.js';

export type { HttpResult } from '../traffic/stream.js';

export interface HttpFigures {
  url: string;
  /** Where the requests came from ("from this machine", "from client pod … on node …"). */
  from?: string;
  /** Why the requests stopped before the measurement ended (their figures stop there). */
  trouble?: string;
  ratePerSecond: number;
  requests: number;
  succeeded: number;
  successPercent: number;
  /** Windows of consecutive failures, from the first failed request to the next successful one. */
  outages: number;
  outageMs: number;
  longestOutageMs: number;
  latencyMs?: Pick<Stats, 'p50' | 'p90' | 'p99' | 'max'>;
  /** Successful responses per pod. */
  byPod: Record<string, number>;
  /** The first failures, in words (at most 5). */
  errors: string[];
}

/** Outages over results in send order: each run of failures lasts until the next success (or `to`). */
export function httpFigures(url: string, rate: number, results: HttpResult[], to: number): HttpFigures {
  const sorted = [...results].sort((a, b) => a.at - b.at);
  let outages = 0;
  let outageMs = 0;
  let longest = 0;
  let failingSince: number | undefined;
  const byPod: Record<string, number> = {};
  for (const r of sorted) {
    if (r.ok) {
      if (r.pod) byPod[r.pod] = (byPod[r.pod] ?? 0) + 1;
      if (failingSince !== undefined) {
        const len = r.at - failingSince;
        outageMs += len;
        longest = Math.max(longest, len);
        failingSince = undefined;
      }
    } else if (failingSince === undefined) {
      failingSince = r.at;
      outages++;
    }
  }
  if (failingSince !== undefined) {
    const len = Math.max(0, to - failingSince);
    outageMs += len;
    longest = Math.max(longest, len);
  }
  const ok = sorted.filter((r) => r.ok);
  const lat = ok.length ? stats(ok.map((r) => r.latencyMs)) : undefined;
  return {
    url,
    ratePerSecond: rate,
    requests: sorted.length,
    succeeded: ok.length,
    successPercent: sorted.length ? (100 * ok.length) / sorted.length : 100,
    outages,
    outageMs,
    longestOutageMs: longest,
    ...(lat ? { latencyMs: { p50: lat.p50, p90: lat.p90, p99: lat.p99, max: lat.max } } : {}),
    byPod,
    errors: sorted.filter((r) => !r.ok).slice(0, 5).map((r) => `${new Date(r.at).toISOString().slice(11, 23)} ${r.error ?? `HTTP ${r.status}`}`),
  };
}

/** Requests per second of availability measured by HTTP: enough to see a 100 ms gap, little enough for 2 cores. */
export const HTTP_PROBE_RATE = 20;

/**
 * The results of a traffic stream, from its first successful request (kube-proxy programs a
 * new Service's rules a moment after its endpoints) until stopped, as an event source
 * conditions can wait on.
 */
export class HttpProbe {
  readonly results: HttpResult[] = [];
  private readonly listeners = new Set<(c: Change) => void>();
  private off: (() => void) | undefined;
  private firstOkAt: number | undefined;
  private endedAt: number | undefined;
  private firstOk: Array<() => void> = [];

  constructor(
    readonly stream: TrafficStream,
    readonly ratePerSecond: number,
  ) {}

  get url(): string {
    return this.stream.url;
  }

  /** Sends, and resolves at the first request that succeeds; rejects after `withinMs`. */
  async start(withinMs = 60_000): Promise<void> {
    if (this.off) return;
    this.off = this.stream.on((r) => this.onResult(r));
    const t0 = now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.stream.start(withinMs);
      if (this.firstOkAt !== undefined) return;
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`GET ${this.url} ${this.stream.from} did not succeed within ${withinMs} ms: ${this.lastFailure ?? this.stream.trouble ?? 'no answer'}`)), Math.max(1, withinMs - (now() - t0)));
        this.firstOk.push(resolve);
      });
    } catch (err) {
      await this.stop();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private lastFailure: string | undefined;

  private onResult(r: HttpResult): void {
    if (this.firstOkAt === undefined) {
      if (!r.ok) {
        this.lastFailure = r.error ?? `HTTP ${r.status}`;
        return;
      }
      this.firstOkAt = r.at;
      for (const w of this.firstOk.splice(0)) w();
    }
    // Requests sent before the first success (the rules not there yet) or after the end do not count.
    if (r.at < this.firstOkAt || (this.endedAt !== undefined && r.at > this.endedAt)) return;
    this.results.push(r);
    const change = { type: 'added', kind: 'HTTPResponse', object: { metadata: { name: r.pod ?? (r.error ?? `HTTP ${r.status}`) } }, at: now() } as Change;
    for (const l of this.listeners) l(change);
  }

  on(listener: (c: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stop sending; resolves once the requests in flight have ended. */
  async stop(): Promise<void> {
    this.endedAt ??= now();
    await this.stream.stop();
    this.off?.();
  }

  get from(): number {
    return this.firstOkAt ?? now();
  }

  /** Over every result, or those sent from `since` on. */
  figures(since?: number): HttpFigures {
    return { ...httpFigures(this.url, this.ratePerSecond, since === undefined ? this.results : this.since(since), this.endedAt ?? now()), from: this.stream.from, ...(this.stream.trouble ? { trouble: this.stream.trouble } : {}) };
  }

  /** Results since `since` (epoch ms), in send order. */
  since(since: number): HttpResult[] {
    return this.results.filter((r) => r.at >= since).sort((a, b) => a.at - b.at);
  }
}
