/**
 * A list+watch cache of one resource (optionally one namespace / label selector).
 * Every change is delivered with the time it arrived, which is the time kubeproof reports.
 * Survives what long-running watches meet: the server closing the stream (reconnect from
 * the last resourceVersion), 410 Gone (relist and emit the differences), and network
 * errors (reconnect with backoff). A time without a watch (the API server down, say) is
 * reported as a gap once the watch is back: what changed in it arrives late, stamped when
 * it arrived, and whoever reports the times must say so.
 */
import { Kube, dropManagedFields, mustResource } from './client.js';
import { isApiError } from './errors.js';
import { collectionPath } from './resources.js';
import { keyOf, type KubeObject } from './types.js';

export type ChangeType = 'added' | 'modified' | 'deleted';

export interface Change<T extends KubeObject = KubeObject> {
  type: ChangeType;
  kind: string;
  object: T;
  /** The previous state of the object, when there was one in the cache. */
  old?: T;
  /** Epoch milliseconds at which the event reached kubeproof. */
  at: number;
}

export type ChangeListener<T extends KubeObject> = (change: Change<T>) => void;

/** Wall-clock milliseconds with sub-millisecond resolution, monotonic within the process. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** A time the informer had no watch open: from the stream's end to the moment a new one was open. */
export interface WatchGap {
  kind: string;
  from: number;
  to: number;
  /** Whether it resumed by listing again (410 Gone: the server no longer had the version it had seen). */
  relisted: boolean;
  /** The last error while it was trying (e.g. connection refused). */
  error?: string;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly kind: string;
  private readonly cache = new Map<string, T>();
  private readonly listeners = new Set<ChangeListener<T>>();
  private readonly errorListeners = new Set<(err: unknown) => void>();
  private readonly gapListeners = new Set<(gap: WatchGap) => void>();
  /** The current gap: when the last watch ended, failed attempts since, whether it relisted. */
  private broken: { at: number; failures: number; relisted: boolean; error?: string } | undefined;
  /** A gap just reported, until the resumed watch delivers something: an expired version (410) comes as its first event and reopens the gap. */
  private reported: { from: number; to: number } | undefined;
  private resourceVersion = '';
  private stopWatch: (() => void) | undefined;
  private stopped = false;
  private syncedPromise: Promise<void> | undefined;
  private retryDelayMs = 200;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Number of times the informer relisted after the watch expired (410) or broke. */
  relists = 0;

  constructor(
    private readonly kube: Kube,
    kind: string,
    private readonly opts: InformerOptions = {},
  ) {
    this.kind = mustResource(kind).kind;
  }

  /** Lists, fills the cache (emitting `added` for each object) and starts watching. Resolves once synced. */
  start(): Promise<void> {
    this.syncedPromise ??= this.relist();
    return this.syncedPromise;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.stopWatch?.();
    this.stopWatch = undefined;
  }

  on(listener: ChangeListener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onError(listener: (err: unknown) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /**
   * Called once a watch is open again after a time without one that had failed attempts in it
   * (not after a routine close). If the resumed watch then says its version expired (410), the
   * same gap (same `from`) is reported again once the relist is done, with `relisted`.
   */
  onGap(listener: (gap: WatchGap) => void): () => void {
    this.gapListeners.add(listener);
    return () => this.gapListeners.delete(listener);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  private emit(change: Change<T>): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        for (const e of this.errorListeners) e(err);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.kube.list<T>(this.kind, this.opts);
    // stop() may have come while the list was in flight: a stopped informer emits nothing more.
    if (this.stopped) return;
    const at = now();
    const seen = new Set<string>();
    for (const raw of list.items) {
      const obj = normalise(raw, this.kind);
      const key = keyOf(obj);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.emit({ type: 'added', kind: this.kind, object: obj, at });
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit({ type: 'modified', kind: this.kind, object: obj, old, at });
    }
    for (const [key, old] of [...this.cache]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit({ type: 'deleted', kind: this.kind, object: old, old, at });
      }
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    if (this.broken) this.broken.relisted = true;
    await this.watchFromLast();
  }

  private async watchFromLast(): Promise<void> {
    if (this.stopped) return;
    const path = collectionPath(mustResource(this.kind), this.opts.namespace);
    // The client calls onDone before watch() resolves when the request itself failed: then this attempt never opened.
    let ended = false;
    let serverError: string | undefined;
    const stopWatch = await this.kube.watch(
      path,
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
      },
      (phase, raw) => {
        if (this.stopped) return;
        if (phase === 'ERROR') {
          const status = raw as unknown as { code?: number; message?: string };
          if (status.code === 410) {
            this.resourceVersion = '';
            // The server took the watch (200) only to say the version is gone: the gap goes on, until the relist.
            if (this.reported && now() - this.reported.to < 10_000) this.broken = { at: this.reported.from, failures: 1, relisted: false, error: `410 ${status.message ?? 'Gone'}` };
          }
          // Any other error event (etcd timing out, say) ends the stream too: retry with backoff, not at once.
          else serverError = `${status.code ?? ''} ${status.message ?? 'watch error'}`.trim();
          return;
        }
        this.reported = undefined;
        const obj = normalise(raw as T, this.kind);
        if (obj.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
        if (phase === 'BOOKMARK') return;
        this.retryDelayMs = 200;
        const key = keyOf(obj);
        const old = this.cache.get(key);
        const at = now();
        if (phase === 'DELETED') {
          this.cache.delete(key);
          this.emit({ type: 'deleted', kind: this.kind, object: obj, old, at });
        } else {
          this.cache.set(key, obj);
          this.emit({ type: old ? 'modified' : 'added', kind: this.kind, object: obj, old, at });
        }
      },
      (err) => {
        ended = true;
        this.reconnect(err ?? (serverError ? new Error(serverError) : err));
      },
    );
    // stop() may have come while the watch was being opened (a reconnect, say): close it, or it stays open for good.
    if (this.stopped) stopWatch();
    else this.stopWatch = stopWatch;
    if (!ended && !this.stopped) this.resumed();
  }

  /** A watch is open: if it follows a time with failed attempts, that time was a gap. */
  private resumed(): void {
    const b = this.broken;
    this.broken = undefined;
    if (!b || b.failures === 0) return;
    const gap: WatchGap = { kind: this.kind, from: b.at, to: now(), relisted: b.relisted, ...(b.error ? { error: b.error } : {}) };
    this.reported = { from: b.at, to: gap.to };
    for (const l of this.gapListeners) {
      try {
        l(gap);
      } catch (err) {
        for (const e of this.errorListeners) e(err);
      }
    }
  }

  private reconnect(err: unknown): void {
    if (this.stopped) return;
    this.broken ??= { at: now(), failures: 0, relisted: false };
    if (err) {
      this.broken.failures++;
      this.broken.error = err instanceof Error ? err.message : String(err);
    }
    const gone = isApiError(err, 410) || this.resourceVersion === '';
    if (err && !gone) for (const l of this.errorListeners) l(err);
    // A clean close (the server's watch timeout) resumes at once from the last version.
    const delay = err && !gone ? this.retryDelayMs : 0;
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, 5000);
    this.reconnectTimer = setTimeout(() => {
      const next = gone ? this.relistCounted() : this.watchFromLast();
      next.catch((e) => this.reconnect(e ?? new Error('watch failed')));
    }, delay);
  }

  private relistCounted(): Promise<void> {
    this.relists++;
    return this.relist();
  }
}

/** Lists return items without apiVersion/kind; watches include them. Make both alike, and keep no managedFields (nothing reads them; at 1,000 nodes they were a third of the cache). */
function normalise<T extends KubeObject>(obj: T, kind: string): T {
  if (!obj.kind) (obj as KubeObject).kind = kind;
  dropManagedFields(obj);
  return obj;
}
