/**
 * Requests sent from this process: where the Service's endpoints are real containers whose
 * node routes ClusterIPs on this machine (a local cluster's real node: its kube-proxy writes
 * the host's iptables), so the traffic never leaves the machine and stops with the process
 * (Ctrl-C, SIGKILL: nothing is left behind).
 *
 * Each request opens its own connection (no keep-alive): kube-proxy balances per connection,
 * so every request is balanced afresh and a pod removed from the endpoints stops getting new
 * requests as soon as the rules change.
 */
import http from 'node:http';
import { now } from '../kube/informer.js';
import { POD_IN_BODY, TrafficSender, type HttpResult, type TrafficPlan } from './stream.js';

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

export class InProcessTraffic extends TrafficSender {
  readonly from = 'from this machine';
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private startedAt = 0;

  constructor(
    readonly url: string,
    private readonly plan: TrafficPlan,
  ) {
    super();
  }

  async start(withinMs: number): Promise<void> {
    if (this.timer) return;
    this.startedAt = now();
    this.timer = setInterval(() => {
      if (now() - this.startedAt > this.plan.maxDurationMs) {
        this.trouble = `stopped by itself after ${this.plan.maxDurationMs} ms`;
        return void this.stop();
      }
      if (this.inFlight.size >= this.plan.maxInFlight) {
        this.skipped++;
        return;
      }
      const p = getOnce(this.url, this.plan.timeoutMs).then((r) => {
        this.inFlight.delete(p);
        this.emit(r);
      });
      this.inFlight.add(p);
    }, 1000 / this.plan.ratePerSecond);
    await this.firstResult(withinMs, `GET ${this.url} from this machine`);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.inFlight]);
  }
}
