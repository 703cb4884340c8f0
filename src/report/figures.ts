/**
 * Structured figures a scenario adds to its report data: each availability probe's result and
 * ready-endpoint curve, and each HorizontalPodAutoscaler's replica curve — as data, so
 * summary.json can be charted or gated on without parsing the timeline.
 */
import type { Scenario } from '../scenario/scenario.js';
import { AVAILABILITY_PROBES } from '../probes/availability.js';
import type { HorizontalPodAutoscaler } from '../kube/types.js';
import type { TimelineEntry, WatchEntry } from '../timeline/timeline.js';
import type { ClusterTimings } from '../cluster/providers/provider.js';
import type { AvailabilityReport, HpaCurve } from './schema.js';

export function scenarioFigures(s: Scenario): { availability?: AvailabilityReport[]; hpa?: HpaCurve[] } {
  const availability = [...s.state(AVAILABILITY_PROBES).values()].map((p): AvailabilityReport => {
    const f = p.figures();
    return {
      service: f.service,
      mechanism: f.mechanism,
      from: f.from,
      to: f.to,
      availablePercent: f.availablePercent,
      minReady: f.min,
      threshold: f.threshold,
      belowThresholdMs: Math.round(f.belowMs),
      outages: f.outages,
      outageMs: Math.round(f.outageMs),
      longestOutageMs: Math.round(f.longestOutageMs),
      points: f.samples.map((x) => ({ at: x.at, ready: x.value })),
      ...(f.http ? { http: { url: f.http.url, ...(f.http.from ? { from: f.http.from } : {}), ...(f.http.trouble ? { trouble: f.http.trouble } : {}), ratePerSecond: f.http.ratePerSecond, requests: f.http.requests, succeeded: f.http.succeeded, ...(f.http.latencyMs ? { latencyMs: f.http.latencyMs } : {}), byPod: f.http.byPod } } : {}),
    };
  });
  const hpa = hpaCurves(s.timeline.entries, (name) => s.timeline.hpas.get(name, s.namespace), s.cluster.timings);
  return { ...(availability.length ? { availability } : {}), ...(hpa.length ? { hpa } : {}) };
}

/** The scale-down window an HPA works with: its own behavior, else the controller's flag. */
export function scaleDownWindow(h: HorizontalPodAutoscaler | undefined, timings: ClusterTimings): { seconds: number; source: 'hpa-behavior' | 'cluster' } {
  const own = h?.spec?.behavior?.scaleDown?.stabilizationWindowSeconds;
  return own !== undefined ? { seconds: own, source: 'hpa-behavior' } : { seconds: timings.hpaDownscaleStabilizationSeconds, source: 'cluster' };
}

/** Replica curves of every HPA in the timeline (consecutive identical points dropped). */
export function hpaCurves(entries: TimelineEntry[], hpaObject: (name: string) => HorizontalPodAutoscaler | undefined, timings: ClusterTimings): HpaCurve[] {
  const watch = entries.filter((e): e is WatchEntry => e.source === 'watch');
  const names = [...new Set(watch.filter((e) => e.kind === 'HorizontalPodAutoscaler').map((e) => e.name))];
  return names.map((name) => {
    const h = hpaObject(name);
    const ref = h?.spec?.scaleTargetRef;
    const points: HpaCurve['points'] = [];
    let minReplicas: number | undefined;
    let maxReplicas: number | undefined;
    for (const e of watch) {
      if (e.kind !== 'HorizontalPodAutoscaler' || e.name !== name || e.type === 'deleted' || !e.figures) continue;
      const f = e.figures;
      minReplicas = f.min ?? minReplicas;
      maxReplicas = f.max ?? maxReplicas;
      const reasons = e.state.split('; ')[1];
      const p = { at: e.at, current: f.current ?? 0, desired: f.desired ?? 0, ...(f.cpuUtilization !== undefined ? { cpuUtilization: f.cpuUtilization } : {}), ...(reasons ? { reasons } : {}) };
      const last = points.at(-1);
      if (last && last.current === p.current && last.desired === p.desired && last.cpuUtilization === p.cpuUtilization && last.reasons === p.reasons) continue;
      points.push(p);
    }
    const replicas: HpaCurve['replicas'] = [];
    if (ref) {
      for (const e of watch) {
        if (e.kind !== ref.kind || e.name !== ref.name || e.type === 'deleted' || e.figures?.replicas === undefined) continue;
        const p = { at: e.at, replicas: e.figures.replicas, ready: e.figures.ready ?? 0 };
        const last = replicas.at(-1);
        if (last && last.replicas === p.replicas && last.ready === p.ready) continue;
        replicas.push(p);
      }
    }
    const window = scaleDownWindow(h, timings);
    return {
      name,
      ...(ref ? { target: `${ref.kind}/${ref.name}` } : {}),
      ...(minReplicas !== undefined ? { minReplicas } : {}),
      ...(maxReplicas !== undefined ? { maxReplicas } : {}),
      scaleDownStabilizationSeconds: window.seconds,
      scaleDownStabilizationSource: window.source,
      points,
      replicas,
    };
  });
}
