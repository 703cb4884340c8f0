/**
 * HTTP requests through a Service, from this process, at a bounded rate: what a client of the
 * Service saw. Used where the Service's endpoints are real containers on this machine (a local
 * cluster's real node, whose kube-proxy routes ClusterIPs from the host), so the traffic never
 * leaves the machine.
 *
 * Each request opens its own connection (no keep-alive): kube-proxy balances per connection,
 * so every request is balanced afresh and a pod removed from the endpoints stops getting new
 * requests as soon as the rules change. The test app names the pod that answered
 * (`pod=<name>` in its body), so the responses say which pods served.
 */
import http from 'node:http';
import { now, type Change } from '../kube/informer.js';
import { stats, type Stats } from '../timeline/stats.js';

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

export interface HttpFigures {
  url: string;
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

export interface HttpProbeOptions {
  ratePerSecond?: number;
  timeoutMs?: number;
}

const POD_IN_BODY = /pod=(\S+)/;

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

/** GET one URL on a fresh connection; never rejects. */
export function getOnce(url: string, timeoutMs: number): Promise<HttpResult> {
  const at = now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Omit<HttpResult, 'at' | 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      resolve({ at, latencyMs: now() - at, ...r });
    };
    const req = http.get(url, { agent: false, timeout: timeoutMs, headers: { Connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        done({ ok: status >= 200 && status < 300, status, pod: POD_IN_BODY.exec(body)?.[1] });
      });
      res.on('error', (err) => done({ ok: false, error: err.message }));
    });
    req.on('timeout', () => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    req.on('error', (err) => done({ ok: false, error: (err as NodeJS.ErrnoException).code ?? err.message }));
  });
}

export class HttpProbe {
  readonly results: HttpResult[] = [];
  readonly ratePerSecond: number;
  private readonly timeoutMs: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly listeners = new Set<(c: Change) => void>();
  private startedAt: number | undefined;
  private endedAt: number | undefined;

  constructor(
    readonly url: string,
    opts: HttpProbeOptions = {},
  ) {
    this.ratePerSecond = opts.ratePerSecond ?? 20;
    this.timeoutMs = opts.timeoutMs ?? 1000;
  }

  /**
   * Send requests every 1/rate s from the first one that succeeds (kube-proxy programs a new
   * Service's rules a moment after its endpoints): resolves then, rejects after `withinMs`.
   * In flight at once: at most rate × timeout, so a hanging Service never piles up sockets.
   */
  async start(withinMs = 15_000): Promise<void> {
    if (this.timer) return;
    const deadline = now() + withinMs;
    let last: HttpResult | undefined;
    // The first success is awaited request by request (not polled state: each request is the check).
    while (now() < deadline) {
      last = await getOnce(this.url, this.timeoutMs);
      if (last.ok) break;
      await new Promise((r) => setTimeout(r, 1000 / this.ratePerSecond));
    }
    if (!last?.ok) throw new Error(`GET ${this.url} did not succeed within ${withinMs} ms: ${last?.error ?? `HTTP ${last?.status}`}`);
    this.startedAt = now();
    const maxInFlight = Math.max(1, Math.ceil((this.ratePerSecond * this.timeoutMs) / 1000));
    this.timer = setInterval(() => {
      if (this.inFlight.size >= maxInFlight) return;
      const p = getOnce(this.url, this.timeoutMs).then((r) => {
        this.inFlight.delete(p);
        if (this.endedAt !== undefined && r.at > this.endedAt) return;
        this.results.push(r);
        const change = { type: 'added', kind: 'HTTPResponse', object: { metadata: { name: r.pod ?? (r.error ?? `HTTP ${r.status}`) } }, at: now() } as Change;
        for (const l of this.listeners) l(change);
      });
      this.inFlight.add(p);
    }, 1000 / this.ratePerSecond);
  }

  on(listener: (c: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stop sending; resolves once the requests in flight have ended. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.endedAt ??= now();
    await Promise.all([...this.inFlight]);
  }

  get from(): number {
    return this.startedAt ?? now();
  }

  figures(): HttpFigures {
    return httpFigures(this.url, this.ratePerSecond, this.results, this.endedAt ?? now());
  }

  /** Results since `since` (epoch ms), in send order. */
  since(since: number): HttpResult[] {
    return this.results.filter((r) => r.at >= since).sort((a, b) => a.at - b.at);
  }
}
