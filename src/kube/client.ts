/**
 * The one door to the API server. Everything that talks to Kubernetes goes through
 * `Kube`; @kubernetes/client-node is imported only in this folder, so upgrading the
 * client touches one place.
 */
import pRetry from 'p-retry';
import type * as K8s from '@kubernetes/client-node';
import { kubernetesClient } from './library.js';
import { ApiError, isNotFound, isUnreachable, toApiError } from './errors.js';
import { EnvironmentError } from '../errors.js';
import { apiVersionOf, collectionPath, resourceType, type ResourceType } from './resources.js';
import type { KubeObject, KubeList } from './types.js';

const k8s = await kubernetesClient();

export const FIELD_MANAGER = 'kubeproof';

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export type WatchPhase = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export class Kube {
  /** How long a watch may take to start answering before the attempt counts as failed (tests shorten it). */
  static watchOpenMs = 30_000;
  readonly config: K8s.KubeConfig;
  readonly core: K8s.CoreV1Api;
  private readonly objects: K8s.KubernetesObjectApi;
  private readonly watcher: K8s.Watch;

  private constructor(config: K8s.KubeConfig) {
    this.config = config;
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.objects = k8s.KubernetesObjectApi.makeApiClient(config);
    this.watcher = new k8s.Watch(config);
  }

  /** A client for one context of one kubeconfig file (the file's current context when none is named). */
  static fromKubeconfig(path: string | undefined, context?: string): Kube {
    const kc = new k8s.KubeConfig();
    try {
      if (path) kc.loadFromFile(path);
      else kc.loadFromDefault();
    } catch (err) {
      throw new EnvironmentError(`cannot read kubeconfig ${path ?? '(default)'}: ${(err as Error).message}`);
    }
    if (context) {
      if (!kc.getContextObject(context)) {
        throw new EnvironmentError(`context "${context}" is not in kubeconfig ${path ?? '(default)'}`, {
          hint: `contexts there: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'}`,
        });
      }
      kc.setCurrentContext(context);
    }
    return new Kube(kc);
  }

  get contextName(): string {
    return this.config.getCurrentContext();
  }

  get serverUrl(): string {
    return this.config.getCurrentCluster()?.server ?? '';
  }

  /** The server's version, e.g. "v1.37.2"; an unreachable server is an EnvironmentError (exit 3). */
  async serverVersion(): Promise<string> {
    try {
      const v = await this.config.makeApiClient(k8s.VersionApi).getCode();
      return v.gitVersion;
    } catch (err) {
      throw this.unreachable(err);
    }
  }

  unreachable(err: unknown): unknown {
    const e = toApiError(err);
    if (isUnreachable(err) || isUnreachable((err as { cause?: unknown })?.cause) || /ECONNREFUSED|fetch failed|socket hang up/.test(String((err as Error)?.message))) {
      return new EnvironmentError(`the API server at ${this.serverUrl} (context ${this.contextName}) is not reachable: ${(err as Error).message}`, { cause: err });
    }
    return e;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    // Writes through the client library: retried only when the connection was refused (nothing was sent).
    return this.reconnecting('WRITE', async () => {
      try {
        return await fn();
      } catch (err) {
        throw this.unreachable(err);
      }
    });
  }

  /**
   * How long a request keeps trying an API server that refuses connections (or, for a read,
   * drops them) before it is reported unreachable. A restarting kube-apiserver refuses
   * connections until it listens again: 4.5–10 s in the API-server restart test here, more on a
   * loaded machine or a control-plane upgrade. Without this, a game day's control-plane restart
   * made a step's read, a scenario's undo or the namespace's deletion fail ("cleanup
   * incomplete", exit 4) although nothing was wrong with the cluster once it was back.
   */
  static reconnectWithinMs = 60_000;

  private async reconnecting<T>(method: string, attempt: () => Promise<T>): Promise<T> {
    return pRetry(attempt, {
      retries: Number.POSITIVE_INFINITY,
      minTimeout: 250,
      maxTimeout: 2000,
      factor: 2,
      maxRetryTime: Kube.reconnectWithinMs,
      // Refused: the request never reached a server, any verb may go again. Reset or hung up:
      // it may have been served, so only a read goes again.
      shouldRetry: ({ error }) => connectionRefused(error) || (method === 'GET' && connectionDropped(error)),
    });
  }


  private header(kind: string, name: string, namespace?: string): KubeObject {
    const r = mustResource(kind);
    return { apiVersion: apiVersionOf(r), kind: r.kind, metadata: { name, ...(r.namespaced ? { namespace } : {}) } };
  }

  async get<T extends KubeObject = KubeObject>(kind: string, name: string, namespace?: string): Promise<T> {
    const r = mustResource(kind);
    return this.request<T>('GET', `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`);
  }

  /** Like get, but undefined when the object does not exist. */
  async find<T extends KubeObject = KubeObject>(kind: string, name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.get<T>(kind, name, namespace);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Lists as plain JSON (the same shape watch events have), in pages of LIST_PAGE as client-go's
   * pager does (one response of 10,000 pods is tens of MB of text at once); managedFields are
   * dropped on the way in (nothing in kubeproof reads them and they are a third of an object).
   */
  async list<T extends KubeObject = KubeObject>(kind: string, opts: ListOptions = {}): Promise<KubeList<T>> {
    const r = mustResource(kind);
    const path = collectionPath(r, r.namespaced ? opts.namespace : undefined);
    const page = (limit: number | undefined, cont: string | undefined) => {
      const q = new URLSearchParams();
      if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
      if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
      if (limit) q.set('limit', String(limit));
      if (cont) q.set('continue', cont);
      return this.request<KubeList<T>>('GET', `${path}${q.size ? `?${q}` : ''}`);
    };
    const items: T[] = [];
    let list: KubeList<T>;
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      try {
        list = await page(LIST_PAGE, cont);
      } catch (err) {
        // The snapshot the pages come from was compacted meanwhile (410): list it whole, once.
        if (!cont || !(err instanceof ApiError && err.status === 410)) throw err;
        items.length = 0;
        list = await page(undefined, undefined);
      }
      for (const item of list.items) items.push(slim(item, r));
      // Every page is of one snapshot: the first page's version is the list's.
      resourceVersion ??= list.metadata?.resourceVersion;
      cont = list.metadata?.continue || undefined;
    } while (cont);
    return { ...list, items, metadata: { ...list.metadata, resourceVersion: list.metadata?.resourceVersion ?? resourceVersion, continue: undefined } };
  }

  async create<T extends KubeObject>(obj: T, opts: { dryRun?: boolean } = {}): Promise<T> {
    return this.call(() => this.objects.create(obj as K8s.KubernetesObject, undefined, opts.dryRun ? 'All' : undefined, FIELD_MANAGER)) as Promise<T>;
  }

  /** Server-side apply: the same manifest applied twice is a no-op; conflicts with other managers are forced. */
  async apply<T extends KubeObject>(obj: T, opts: { dryRun?: boolean } = {}): Promise<T> {
    return this.call(() =>
      this.objects.patch(obj as K8s.KubernetesObject, undefined, opts.dryRun ? 'All' : undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply),
    ) as Promise<T>;
  }

  /** JSON merge patch (RFC 7386) of one object; `null` removes a key. */
  async mergePatch<T extends KubeObject = KubeObject>(kind: string, name: string, namespace: string | undefined, patch: object): Promise<T> {
    const r = mustResource(kind);
    return this.request<T>('PATCH', `${collectionPath(r, namespace)}/${encodeURIComponent(name)}?fieldManager=${FIELD_MANAGER}`, patch, 'application/merge-patch+json');
  }

  /**
   * JSON patch (RFC 6902). Used with a `test` operation on resourceVersion or on a value
   * when a change must only land if nobody else changed the object.
   */
  async jsonPatch<T extends KubeObject = KubeObject>(kind: string, name: string, namespace: string | undefined, ops: object[]): Promise<T> {
    const r = mustResource(kind);
    const path = `${collectionPath(r, namespace)}/${encodeURIComponent(name)}?fieldManager=${FIELD_MANAGER}`;
    return this.request<T>('PATCH', path, ops, 'application/json-patch+json');
  }

  /** Delete; with `preconditions`, only the version read (409 Conflict if the object changed since). */
  async delete(kind: string, name: string, namespace?: string, opts: { gracePeriodSeconds?: number; propagationPolicy?: string; preconditions?: { resourceVersion?: string; uid?: string } } = {}): Promise<void> {
    const body = opts.preconditions ? { preconditions: opts.preconditions } : undefined;
    await this.call(() =>
      this.objects.delete(this.header(kind, name, namespace) as K8s.KubernetesObject, undefined, undefined, opts.gracePeriodSeconds, undefined, opts.propagationPolicy ?? 'Background', body),
    );
  }

  /** Evict a pod through the Eviction API (honours PodDisruptionBudgets; a refusal is ApiError 429). */
  /** Evict through the Eviction API; resolves to the HTTP status of an allowed eviction (201, or 200), throws an ApiError for a refusal. */
  async evict(name: string, namespace: string, opts: { gracePeriodSeconds?: number } = {}): Promise<number> {
    const info = await this.call(() =>
      this.core.createNamespacedPodEvictionWithHttpInfo({
        name,
        namespace,
        body: {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name, namespace },
          ...(opts.gracePeriodSeconds !== undefined ? { deleteOptions: { gracePeriodSeconds: opts.gracePeriodSeconds } } : {}),
        },
      }),
    );
    return info.httpStatusCode;
  }

  /**
   * Run a command in a container through the API's exec subresource (what `kubectl exec`
   * does): resolves with its output and exit code once it ends, rejects after `timeoutMs`.
   */
  async exec(namespace: string, pod: string, container: string, command: string[], timeoutMs = 15_000): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const { Writable } = await import('node:stream');
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const sink = (into: Buffer[]) => new Writable({ write: (c: Buffer, _e, cb) => (into.push(Buffer.from(c)), cb()) });
    const what = `exec ${command.join(' ')} in ${namespace}/${pod} (${container})`;
    return new Promise((resolve, reject) => {
      let socket: { close(): void } | undefined;
      const timer = setTimeout(() => {
        socket?.close();
        reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (status: K8s.V1Status) => {
        clearTimeout(timer);
        // A non-zero exit is status Failure with reason NonZeroExitCode and the code in details.causes.
        const code = status.status === 'Success' ? 0 : Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message ?? 1);
        resolve({ exitCode: code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') || (code ? (status.message ?? '') : '') });
      };
      new k8s.Exec(this.config)
        .exec(namespace, pod, container, command, sink(out), sink(err), null, false, done)
        .then((ws) => (socket = ws))
        .catch((e: unknown) => {
          clearTimeout(timer);
          // The websocket rejects with an event object ("Unexpected server response: 500" when the kubelet is not reachable).
          const err = this.unreachable(e);
          reject(err instanceof Error ? err : new Error(`${what}: ${(e as { message?: string })?.message ?? String(e)}`));
        });
    });
  }

  /**
   * Follow a container's log through the API (what `kubectl logs -f` does): `onLine` gets each
   * complete line as it arrives, `onEnd` once when the stream ends (the container ended, the
   * connection broke: with the error) or is stopped. Resolves once the API server answered
   * 200; a refusal (the container not started yet: 400) rejects with its ApiError.
   */
  async followLog(namespace: string, pod: string, container: string, onLine: (line: string) => void, onEnd: (err?: unknown) => void): Promise<() => void> {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new EnvironmentError(`kubeconfig context ${this.contextName} names no cluster`);
    const opts: { headers: Record<string, string>; [k: string]: unknown } = { headers: {} };
    await this.config.applyToHTTPSOptions(opts as never);
    const url = new URL(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?container=${encodeURIComponent(container)}&follow=true`, cluster.server);
    const { default: https } = await import('node:https');
    const { default: http } = await import('node:http');
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      let ended = false;
      let answered = false;
      const end = (err?: unknown) => {
        if (ended) return;
        ended = true;
        onEnd(err);
      };
      const req = mod.request(url, { ...(opts as object), method: 'GET', headers: { ...opts.headers, Accept: '*/*' } }, (res) => {
        answered = true;
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let parsed: { reason?: string; message?: string } = {};
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              parsed = { message: Buffer.concat(chunks).toString('utf8') };
            }
            ended = true;
            reject(new ApiError(status, parsed.reason ?? '', parsed.message ?? `HTTP ${status}`));
          });
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            onLine(buf.slice(0, i));
            buf = buf.slice(i + 1);
          }
        });
        res.on('end', () => {
          if (buf) onLine(buf);
          end();
        });
        res.on('error', (err) => end(err));
        res.on('close', () => end());
        resolve(() => {
          ended = true;
          req.destroy();
        });
      });
      req.on('error', (err) => {
        if (ended) return;
        // Before an answer: the request failed; after: the stream broke.
        if (!answered) {
          ended = true;
          reject(this.unreachable(err));
        } else end(err);
      });
      req.end();
    });
  }

  /** A raw request against the API server (paths the typed clients do not cover, e.g. metrics.k8s.io); an API server restarting meanwhile is waited for (see reconnectWithinMs). */
  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    return this.reconnecting(method, () => this.requestOnce<T>(method, path, body, contentType));
  }

  private async requestOnce<T>(method: string, path: string, body: unknown, contentType: string): Promise<T> {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new EnvironmentError(`kubeconfig context ${this.contextName} names no cluster`);
    const opts: { headers: Record<string, string>; [k: string]: unknown } = { headers: {} };
    await this.config.applyToHTTPSOptions(opts as never);
    const url = new URL(path, cluster.server);
    const { default: https } = await import('node:https');
    const { default: http } = await import('node:http');
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const mod = url.protocol === 'https:' ? https : http;
      const req = mod.request(
        url,
        { ...(opts as object), method, headers: { ...opts.headers, Accept: 'application/json', ...(payload ? { 'Content-Type': contentType } : {}) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              resolve((text ? JSON.parse(text) : undefined) as T);
              return;
            }
            let parsed: { reason?: string; message?: string; details?: unknown } = {};
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = { message: text };
            }
            reject(new ApiError(status, parsed.reason ?? '', parsed.message ?? `HTTP ${status}`, parsed.details));
          });
        },
      );
      req.on('error', (err) => reject(this.unreachable(err)));
      if (payload) req.write(payload);
      req.end();
    });
  }

  /**
   * Start one watch request. `onEvent` gets every event as it arrives; `onDone` is called
   * once when the stream ends, with the error if any. Returns a function that stops it.
   */
  async watch(
    path: string,
    params: Record<string, string | number | boolean | undefined>,
    onEvent: (phase: WatchPhase, obj: KubeObject) => void,
    onDone: (err: unknown) => void,
  ): Promise<() => void> {
    // A watch whose response never starts (an API server that took the connection while it
    // restarts, say) would hold its caller for undici's 300 s header timeout: give up on it
    // after Kube.watchOpenMs, as a failed attempt its caller retries, and silence it if it opens late.
    let abandoned = false;
    const opening = this.watcher.watch(
      path,
      params,
      (phase, obj) => {
        if (!abandoned) onEvent(phase as WatchPhase, obj as KubeObject);
      },
      (err) => {
        if (!abandoned) onDone(err ? toApiError(err) : undefined);
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EnvironmentError(`a watch of ${path} at ${this.serverUrl} did not open within ${Kube.watchOpenMs / 1000} s`)), Kube.watchOpenMs);
    });
    try {
      const controller = await Promise.race([opening, late]);
      return () => controller.abort();
    } catch (err) {
      abandoned = true;
      opening.then((c) => c.abort(), () => undefined);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The error's codes and messages, its causes' included (EnvironmentError wraps the socket's error). */
function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) parts.push(`${String(e.code ?? '')} ${String(e.message ?? '')}`);
  return parts.join(' | ');
}
const connectionRefused = (err: unknown): boolean => /ECONNREFUSED/.test(errorText(err));
const connectionDropped = (err: unknown): boolean => /ECONNRESET|socket hang up/.test(errorText(err));

/** Objects per page of a list (client-go's pager uses 500 too). */
const LIST_PAGE = 500;

/** A listed object as kubeproof keeps it: apiVersion and kind filled in (lists omit them), no managedFields. */
function slim<T extends KubeObject>(item: T, r: ResourceType): T {
  item.apiVersion ??= apiVersionOf(r);
  item.kind ??= r.kind;
  dropManagedFields(item);
  return item;
}

/** managedFields: server-side apply's bookkeeping, read by nothing in kubeproof, often the largest part of an object. */
export function dropManagedFields(obj: KubeObject): void {
  if (obj.metadata && 'managedFields' in obj.metadata) delete (obj.metadata as { managedFields?: unknown }).managedFields;
}

export function mustResource(kind: string): ResourceType {
  const r = resourceType(kind);
  if (!r) throw new Error(`kubeproof does not know the resource kind "${kind}"`);
  return r;
}
