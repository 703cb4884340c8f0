// The bench's independent watcher: a plain list+watch of pods over HTTPS (node's https module;
// @kubernetes/client-node only reads the kubeconfig), with none of kubeproof's informer code.
// Every event is stamped on arrival with the same clock kubeproof uses
// (performance.timeOrigin + performance.now(), epoch ms), so "the API server recorded the state
// at" means "the watch event reached this process at", on loopback.
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

export const now = () => performance.timeOrigin + performance.now();

export function podReady(p) {
  return (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** HTTPS options (TLS material, server URL) of a kubeconfig's current context. */
export async function tlsOptions(kubeconfig) {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const opts = {};
  await kc.applyToHTTPSOptions(opts);
  return { server: kc.getCurrentCluster().server, opts };
}

export async function getJSON(kubeconfig, path) {
  const { server, opts } = await tlsOptions(kubeconfig);
  return new Promise((resolve, reject) => {
    https
      .get(new URL(path, server), { ...opts, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(path.startsWith('/metrics') ? body : JSON.parse(body)) : reject(new Error(`${path}: ${res.statusCode} ${body.slice(0, 200)}`))));
      })
      .on('error', reject);
  });
}

/**
 * Watch pods (all namespaces, or one) with a label selector. Keeps, per pod, whether it is
 * available (Ready and not terminating) and its node, and a log of every event:
 * { at, type, ns, name, available, node, deleting }.
 */
export class PodWatcher {
  constructor(kubeconfig, { labelSelector = '', namespace, base } = {}) {
    this.kubeconfig = kubeconfig;
    this.base = base;
    this.labelSelector = labelSelector;
    this.namespace = namespace;
    this.pods = new Map(); // ns/name -> { available, node, deleting }
    this.log = [];
    this.stopped = false;
    this.req = undefined;
  }

  path(extra) {
    const base = this.base ?? (this.namespace ? `/api/v1/namespaces/${this.namespace}/pods` : '/api/v1/pods');
    const q = new URLSearchParams({ ...(this.labelSelector ? { labelSelector: this.labelSelector } : {}), ...extra });
    return `${base}?${q}`;
  }

  async start() {
    this.tls = await tlsOptions(this.kubeconfig);
    const list = await getJSON(this.kubeconfig, this.path({}));
    for (const p of list.items) this.apply('LISTED', p, now());
    this.rv = list.metadata.resourceVersion;
    this.watch();
  }

  watch() {
    if (this.stopped) return;
    const url = new URL(this.path({ watch: '1', resourceVersion: this.rv, allowWatchBookmarks: 'true', timeoutSeconds: '3600' }), this.tls.server);
    this.req = https.get(url, { ...this.tls.opts, agent: false }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        const at = now();
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line);
          if (ev.type === 'ERROR') {
            // 410 Gone: list again (the bench's watches are short; this is a safety net).
            this.rv = undefined;
            continue;
          }
          this.rv = ev.object.metadata.resourceVersion;
          if (ev.type !== 'BOOKMARK') this.apply(ev.type, ev.object, at);
        }
      });
      res.on('end', () => this.restart());
    });
    this.req.on('error', () => this.restart());
  }

  restart() {
    if (this.stopped) return;
    if (this.rv === undefined) {
      void this.start();
      return;
    }
    setTimeout(() => this.watch(), 50);
  }

  apply(type, p, at) {
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    const deleting = Boolean(p.metadata.deletionTimestamp);
    const entry = { at, type, ns: p.metadata.namespace, name: p.metadata.name, node: p.spec?.nodeName, deleting, available: type !== 'DELETED' && !deleting && podReady(p) };
    if (type === 'DELETED') this.pods.delete(key);
    else this.pods.set(key, entry);
    this.log.push(entry);
  }

  stop() {
    this.stopped = true;
    this.req?.destroy();
  }

  /** Available pods of a namespace as a step function: [{ at, available }], one point per change. */
  series(ns) {
    const state = new Map();
    const out = [];
    for (const e of this.log) {
      if (e.ns !== ns) continue;
      if (e.type === 'DELETED') state.delete(e.name);
      else state.set(e.name, e.available);
      const available = [...state.values()].filter(Boolean).length;
      if (!out.length || out.at(-1).available !== available) out.push({ at: e.at, available });
    }
    return out;
  }

  /**
   * Disruptions of a namespace: each interval from the first event after which fewer than
   * `want` pods were available to the first event after which `want` were again (or undefined).
   */
  disruptions(ns, want, since = 0) {
    const out = [];
    let open;
    for (const p of this.series(ns)) {
      if (p.at < since) continue;
      if (!open && p.available < want) open = { from: p.at, min: p.available };
      else if (open && p.available < want) open.min = Math.min(open.min, p.available);
      else if (open && p.available >= want) {
        out.push({ ...open, to: p.at, ms: p.at - open.from });
        open = undefined;
      }
    }
    if (open) out.push({ ...open, to: undefined, ms: undefined });
    return out;
  }

  /** First event at or after `since` at which a pod of `ns` was deleted or got a deletionTimestamp. */
  firstKill(ns, since) {
    return this.log.find((e) => e.ns === ns && e.at >= since && (e.deleting || e.type === 'DELETED'));
  }
}

/**
 * The same watcher, run in a child process at nice -10 (bench/lib/watcher-proc.mjs); this object
 * holds what it reports (log, pods) and answers the same queries.
 */
export class RemoteWatcher extends PodWatcher {
  async start() {
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const script = fileURLToPath(new URL('./watcher-proc.mjs', import.meta.url));
    this.child = spawn('nice', ['-n', '-10', process.execPath, script, this.kubeconfig, this.labelSelector, this.base ?? ''], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buf = '';
    await new Promise((resolve, reject) => {
      this.child.on('exit', (code) => reject(new Error(`watcher exited ${code}`)));
      this.child.stdout.setEncoding('utf8');
      this.child.stdout.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = JSON.parse(buf.slice(0, i));
          buf = buf.slice(i + 1);
          if (line === 'ready') {
            resolve();
            continue;
          }
          const key = `${line.ns}/${line.name}`;
          if (line.type === 'DELETED') this.pods.delete(key);
          else this.pods.set(key, line);
          this.log.push(line);
        }
      });
    });
  }

  stop() {
    this.stopped = true;
    this.child?.stdin.end();
  }
}
