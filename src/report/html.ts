/**
 * The resilience timeline: one self-contained HTML page (inline CSS and SVG, no scripts, no
 * external URLs, so it opens from a CI artifact or a mail attachment) showing, per scenario,
 * what the workloads did over time around what the harness did to them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatDuration } from '../log.js';
import type { ActionEntry } from '../timeline/timeline.js';
import type { ClusterTimings } from '../cluster/providers/provider.js';
import type { RunSummary, ScenarioData, ScenarioStatus, ScenarioSummary } from './schema.js';
import { describeMeasurement, formatMeasurementValue } from './console.js';

export async function writeReports(dir: string, summary: RunSummary): Promise<{ summaryPath: string; timelinePath: string }> {
  await mkdir(dir, { recursive: true });
  const summaryPath = join(dir, 'summary.json');
  const timelinePath = join(dir, 'timeline.html');
  await writeFile(summaryPath, `${JSON.stringify(summary, null, 2)}\n`);
  await writeFile(timelinePath, renderTimelineHtml(summary));
  return { summaryPath, timelinePath };
}

export function renderTimelineHtml(summary: RunSummary): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kubeproof run ${esc(summary.runId)}</title>
<style>${CSS}</style>
</head>
<body>
${header(summary)}
${overview(summary.scenarios)}
${summary.scenarios.map((s, i) => scenarioSection(s, i)).join('\n')}
<footer>kubeproof ${esc(summary.kubeproofVersion)} · summary.json schema ${summary.schemaVersion}</footer>
</body>
</html>
`;
}

const CSS = `
:root { --fg:#1f2328; --muted:#656d76; --line:#d0d7de; --bg:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0 auto; padding: 24px; max-width: 1240px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0; }
h3 { font-size: 14px; margin: 18px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 16px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: #fff; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
table.grid { width: 100%; }
section.scenario table.grid { margin-top: 12px; }
table.grid th, table.grid td { border-bottom: 1px solid var(--line); padding: 4px 8px; }
table.grid tr:nth-child(even) td { background: var(--bg); }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.totals span { margin-right: 14px; font-weight: 600; }
section.scenario { border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; margin: 22px 0; background: #fff; }
section.scenario > header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 10px; }
.badge { display: inline-block; border-radius: 999px; padding: 1px 10px; font-size: 12px; font-weight: 700; color: #fff; white-space: nowrap; }
.s-passed { background: #1a7f37; } .s-failed, .s-undefined, .s-ambiguous { background: #cf222e; }
.s-skipped, .s-pending { background: #8c959f; } .s-not-applicable { background: #0969da; } .s-unknown { background: #8250df; } .s-planned { background: #1f6feb; }
.t-passed { color: #1a7f37; } .t-failed { color: #cf222e; } .t-skipped { color: #6e7781; } .t-na { color: #0969da; }
.note { background: #ddf4ff; border-left: 4px solid #0969da; padding: 6px 10px; margin: 10px 0; }
.error { background: #ffebe9; border-left: 4px solid #cf222e; padding: 8px 12px; margin: 10px 0; white-space: pre-wrap; overflow-x: auto; }
.chart { width: 100%; height: auto; display: block; margin-top: 6px; }
.chart text { font: 11px system-ui, sans-serif; fill: #1f2328; }
.chart .axis text { fill: #656d76; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 6px 0 0; font-size: 12.5px; }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.legend svg { width: 28px; height: 10px; }
.notes { margin: 2px 0 0; padding-left: 16px; color: var(--muted); font-size: 12.5px; }
details > summary { cursor: pointer; color: var(--muted); margin: 4px 0; }
table.timeline td { font-size: 12.5px; }
footer { color: var(--muted); font-size: 12px; margin-top: 28px; }
`;

function header(summary: RunSummary): string {
  const c = summary.cluster;
  const t = summary.totals;
  const cluster = c
    ? `<div class="card"><table>
<tr><th>Cluster</th><td>${esc(c.kind)} · <code>${esc(c.name)}</code></td></tr>
<tr><th>Context</th><td><code>${esc(c.context)}</code></td></tr>
<tr><th>Kubernetes</th><td>${esc(c.serverVersion)}</td></tr>
</table></div>
<div class="card">${timingsTable(c.timings)}</div>`
    : '';
  return `<header>
<h1>kubeproof run <code>${esc(summary.runId)}</code></h1>
<div class="muted">started ${esc(summary.startedAt)} · took ${esc(formatDuration(summary.durationMs))} · exit code ${summary.exitCode}</div>
<div class="cards">
<div class="card totals"><div class="muted">${t.scenarios} scenario${t.scenarios === 1 ? '' : 's'}</div>
<span class="t-passed">${t.passed} passed</span><span class="t-failed">${t.failed} failed</span><span class="t-skipped">${t.skipped} skipped</span><span class="t-na">${t.notApplicable} not applicable</span></div>
${cluster}
</div>
</header>`;
}

const TIMINGS: Array<[keyof Omit<ClusterTimings, 'source'>, string]> = [
  ['nodeMonitorGracePeriodSeconds', 'node-monitor-grace-period'],
  ['nodeMonitorPeriodSeconds', 'node-monitor-period'],
  ['nodeHeartbeatSeconds', 'node heartbeat'],
  ['defaultNotReadyTolerationSeconds', 'default not-ready toleration'],
  ['defaultUnreachableTolerationSeconds', 'default unreachable toleration'],
  ['hpaSyncPeriodSeconds', 'HPA sync period'],
  ['hpaDownscaleStabilizationSeconds', 'HPA downscale stabilization'],
];

function timingsTable(t: ClusterTimings): string {
  const rows = TIMINGS.map(([key, label]) => `<tr><th>${label}</th><td class="num">${esc(String(t[key]))} s</td></tr>`).join('');
  return `<table><caption class="muted" style="text-align:left">Timings in force (${esc(t.source)})</caption>${rows}</table>`;
}

function overview(scenarios: ScenarioSummary[]): string {
  if (scenarios.length === 0) return '<p class="muted">No scenario ran.</p>';
  const rows = scenarios
    .map((s, i) => {
      const first = s.data?.measurements[0];
      return `<tr><td>${badge(s.status)}</td><td><a href="#scenario-${i + 1}">${esc(s.name)}</a></td><td><code>${esc(s.location)}</code></td><td class="num">${esc(formatDuration(s.durationMs))}</td><td>${first ? esc(`${first.name}: ${formatMeasurementValue(first.value, first.unit)}`) : ''}</td></tr>`;
    })
    .join('\n');
  return `<table class="grid"><thead><tr><th>Status</th><th>Scenario</th><th>Location</th><th>Duration</th><th>First figure</th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

function scenarioSection(s: ScenarioSummary, index: number): string {
  const d = s.data;
  const parts: string[] = [];
  parts.push(`<header><h2>${esc(s.name)}</h2>${badge(s.status)}<code class="muted">${esc(s.location)}</code><span class="muted">${esc(formatDuration(s.durationMs))}${s.feature ? ` · ${esc(s.feature)}` : ''}${s.tags.length ? ` · ${esc(s.tags.join(' '))}` : ''}</span></header>`);
  if (d?.notApplicable) parts.push(`<div class="note">Not applicable on this cluster: ${esc(d.notApplicable)}</div>`);
  if (s.error) {
    if (s.failedStep) parts.push(`<div>Failed at step <b>${esc(s.failedStep.text)}</b> <code class="muted">${esc(s.failedStep.location)}</code></div>`);
    parts.push(`<pre class="error">${esc(s.error)}</pre>`);
  }
  if (d?.measurements.length) parts.push(`<h3>Measured</h3>${measurementsTable(d)}`);
  if (d) {
    parts.push(`<h3>Timeline</h3>${chart(d)}`);
    if (d.faults.length) parts.push(faultsTable(d));
    parts.push(entriesTable(d));
  } else {
    parts.push('<p class="muted">No timeline: the scenario attached no data (it may have stopped before its namespace was created).</p>');
  }
  return `<section class="scenario" id="scenario-${index + 1}">\n${parts.join('\n')}\n</section>`;
}

function measurementsTable(d: ScenarioData): string {
  const rows = d.measurements
    .map((m) => {
      const { name, value, trials, notes } = describeMeasurement(m, { compact: false, times: d });
      const detail = trials ? [trials, ...notes] : notes;
      return `<tr><td>${esc(name)}</td><td class="num"><b>${esc(value)}</b></td><td>${detail.length ? `<ul class="notes">${detail.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}</td></tr>`;
    })
    .join('\n');
  return `<table class="grid"><thead><tr><th>Figure</th><th>Value</th><th>Detail</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function faultsTable(d: ScenarioData): string {
  const rows = d.faults
    .map(
      (f) =>
        `<tr><td>${esc(f.type)}</td><td><code>${esc(f.target)}</code></td><td class="num">${rel(f.injectedAt, d.startedAt)}</td><td class="num">${f.revertedAt !== undefined ? rel(f.revertedAt, d.startedAt) : '—'}</td><td>${f.revert === 'none' || (f.revertedAt === undefined && f.revert === 'reverted') ? 'nothing to undo' : esc(f.revert)}</td><td>${esc(f.detail ?? '')}</td></tr>`,
    )
    .join('\n');
  return `<table class="grid"><thead><tr><th>Fault</th><th>Target</th><th>Injected (s)</th><th>Reverted (s)</th><th>Undo</th><th>Detail</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function entriesTable(d: ScenarioData): string {
  const rows = d.entries
    .map((e) =>
      e.source === 'harness'
        ? `<tr><td class="num mono">${rel(e.at, d.startedAt)}</td><td><b>harness</b></td><td><b>${esc(e.action)}</b></td><td></td><td>${esc(e.detail)}</td></tr>`
        : `<tr><td class="num mono">${rel(e.at, d.startedAt)}</td><td>${esc(e.kind)}</td><td><code>${esc(e.name)}</code></td><td>${esc(e.type)}</td><td>${esc(e.state)}</td></tr>`,
    )
    .join('\n');
  const dropped = d.entriesDropped ? `<p class="muted">${d.entriesDropped} entries from the middle of the scenario were left out of the report.</p>` : '';
  const table = `<table class="grid timeline"><thead><tr><th>Time (s)</th><th>Source / kind</th><th>Name</th><th>Type</th><th>State</th></tr></thead><tbody>\n${rows}\n</tbody></table>${dropped}`;
  if (d.entries.length === 0) return '<p class="muted">The timeline recorded no entries.</p>';
  if (d.entries.length <= 50) return table;
  return `<details><summary>All ${d.entries.length} timeline entries</summary>\n${table}\n</details>`;
}

// ---- the chart ----

interface Series {
  label: string;
  color: string;
  dash: string;
  /** value null: the object was deleted, the line stops. */
  points: Array<{ t: number; v: number | null }>;
}

const PALETTE = ['#0969da', '#1a7f37', '#bc4c00', '#8250df', '#cf222e', '#1b7c83', '#9a6700', '#bf3989', '#57606a', '#0550ae'];
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'DaemonSet']);
const ACTION_COLOR = '#57606a';
const FAULT_COLOR = '#cf222e';

/** The figures worth a line: ready counts of workloads and EndpointSlices, an HPA's desired and current replicas. */
function seriesOf(d: ScenarioData): Series[] {
  const byKey = new Map<string, Omit<Series, 'color'>>();
  const add = (key: string, label: string, dash: string, t: number, v: number | null) => {
    let s = byKey.get(key);
    if (!s) byKey.set(key, (s = { label, dash, points: [] }));
    s.points.push({ t, v });
  };
  for (const e of d.entries) {
    if (e.source !== 'watch') continue;
    const t = e.at - d.startedAt;
    const gone = e.type === 'deleted';
    if (WORKLOAD_KINDS.has(e.kind)) {
      if (gone || e.figures?.ready !== undefined) add(`${e.kind}/${e.name}`, `${e.kind} ${e.name} ready`, e.kind === 'ReplicaSet' ? '5 3' : '', t, gone ? null : e.figures!.ready!);
    } else if (e.kind === 'EndpointSlice') {
      if (gone || e.figures?.ready !== undefined) add(`EndpointSlice/${e.name}`, `EndpointSlice ${e.name} ready endpoints`, '1.5 2.5', t, gone ? null : e.figures!.ready!);
    } else if (e.kind === 'HorizontalPodAutoscaler') {
      if (gone || e.figures?.desired !== undefined) add(`HPA/${e.name}/desired`, `HPA ${e.name} desired replicas`, '8 3', t, gone ? null : e.figures!.desired!);
      if (gone || e.figures?.current !== undefined) add(`HPA/${e.name}/current`, `HPA ${e.name} current replicas`, '', t, gone ? null : e.figures!.current!);
    }
  }
  // A ReplicaSet that never had a ready pod (an old revision) is only clutter.
  const kept = [...byKey.entries()].filter(([key, s]) => !key.startsWith('ReplicaSet/') || s.points.some((p) => (p.v ?? 0) > 0)).map(([, s]) => s);
  return kept.map((s, i) => ({ ...s, color: PALETTE[i % PALETTE.length]! }));
}

function chart(d: ScenarioData): string {
  const series = seriesOf(d);
  const actions = d.entries.filter((e): e is ActionEntry => e.source === 'harness');
  // A fault with nothing to undo (pods killed) is an instant, drawn as its action; the others span until their undo.
  const spans = d.faults.filter((f) => f.revert !== 'none' && !(f.revertedAt === undefined && f.revert === 'reverted'));
  if (series.length === 0 && actions.length === 0 && spans.length === 0)
    return d.entries.length ? '<p class="muted">Nothing to chart: no workload, EndpointSlice or HPA figures and no harness actions were recorded.</p>' : '';

  const W = 1160;
  const left = 46;
  const right = 20;
  const plotW = W - left - right;
  const end = Math.max(d.endedAt - d.startedAt, ...d.entries.map((e) => e.at - d.startedAt), ...d.faults.map((f) => (f.revertedAt ?? f.injectedAt) - d.startedAt), 1000);
  const start = Math.min(0, ...d.entries.map((e) => e.at - d.startedAt));
  const x = (t: number) => left + ((t - start) / (end - start)) * plotW;

  // Action labels go in rows above the plot, each in the first row where it does not overlap.
  const rowH = 15;
  const maxRows = 6;
  const rowEnds: number[] = [];
  const labels = actions.map((a) => {
    const ax = x(a.at - d.startedAt);
    const text = actionLabel(a);
    const width = text.length * 6.1 + 6;
    const anchorEnd = ax + width > W - right;
    const from = anchorEnd ? ax - width : ax;
    let row = rowEnds.findIndex((e) => e < from);
    if (row === -1 && rowEnds.length < maxRows) row = rowEnds.push(-Infinity) - 1;
    if (row === -1) row = rowEnds.indexOf(Math.min(...rowEnds));
    rowEnds[row] = from + width + 4;
    return { a, ax, text, row, anchorEnd };
  });
  const plotTop = 6 + Math.max(rowEnds.length, 1) * rowH + 6;
  const plotH = 240;
  const plotBottom = plotTop + plotH;
  const H = plotBottom + 36;

  const max = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.v ?? 0)));
  const step = Math.max(1, Math.ceil(max / 6));
  const yMax = (Math.floor(max / step) + 1) * step;
  const y = (v: number) => plotBottom - (v / yMax) * plotH;

  const out: string[] = [];
  out.push(`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="ready counts over time">`);
  // Faults first, so everything else is drawn over their shading.
  for (const f of spans) {
    const x1 = x(f.injectedAt - d.startedAt);
    const x2 = x((f.revertedAt ?? d.endedAt) - d.startedAt);
    const label = `${f.type} ${shortTarget(f.target)}${f.revertedAt === undefined ? ' (not reverted)' : f.revert === 'failed' ? ' (undo failed)' : ''}`;
    out.push(
      `<g><title>${esc(`${f.type} ${f.target}: ${f.detail ?? ''} (undo ${f.revert})`)}</title><rect x="${n(x1)}" y="${plotTop}" width="${n(Math.max(2, x2 - x1))}" height="${plotH}" fill="${FAULT_COLOR}" fill-opacity="0.08" stroke="${FAULT_COLOR}" stroke-opacity="0.25"/>` +
        `<text x="${n(x1 + 4)}" y="${plotBottom - 6}" style="fill:${FAULT_COLOR}">${esc(label)}</text></g>`,
    );
  }
  // Axes and grid.
  out.push('<g class="axis">');
  for (let v = 0; v <= yMax; v += step) out.push(`<line x1="${left}" x2="${W - right}" y1="${n(y(v))}" y2="${n(y(v))}" stroke="#d0d7de" stroke-width="${v === 0 ? 1 : 0.5}"/><text x="${left - 6}" y="${n(y(v) + 4)}" text-anchor="end">${v}</text>`);
  const tStep = niceStep((end - start) / 1000 / 10);
  for (let s = Math.ceil(start / 1000 / tStep) * tStep; s <= (end / 1000) + 1e-9; s += tStep) {
    out.push(`<line x1="${n(x(s * 1000))}" x2="${n(x(s * 1000))}" y1="${plotBottom}" y2="${plotBottom + 4}" stroke="#8c959f"/><text x="${n(x(s * 1000))}" y="${plotBottom + 16}" text-anchor="middle">${round(s)}</text>`);
  }
  out.push(`<text x="${W - right}" y="${plotBottom + 31}" text-anchor="end">seconds since the scenario started</text>`);
  out.push(`<text x="${left - 34}" y="${plotTop + plotH / 2}" transform="rotate(-90 ${left - 34} ${plotTop + plotH / 2})" text-anchor="middle">count</text>`);
  out.push('</g>');
  // Harness actions.
  for (const l of labels) {
    const ly = 6 + l.row * rowH + 11;
    out.push(
      `<g><title>${esc(`+${seconds(l.a.at - d.startedAt)} s ${l.a.action}: ${l.a.detail}`)}</title><line x1="${n(l.ax)}" x2="${n(l.ax)}" y1="${ly + 3}" y2="${plotBottom}" stroke="${ACTION_COLOR}" stroke-dasharray="3 3"/>` +
        `<text x="${n(l.anchorEnd ? l.ax - 3 : l.ax + 3)}" y="${ly}" text-anchor="${l.anchorEnd ? 'end' : 'start'}">${esc(l.text)}</text></g>`,
    );
  }
  // Step lines; lines on the same value are nudged apart so none hides another.
  series.forEach((s, i) => {
    const offset = Math.max(-6, Math.min(6, (i - (series.length - 1) / 2) * 1.5));
    out.push(`<path d="${stepPath(s, x, (v) => y(v) + offset, end)}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}><title>${esc(s.label)}</title></path>`);
  });
  out.push('</svg>');
  out.push(legend(series, actions.length > 0, spans.length > 0));
  return out.join('\n');
}

function stepPath(s: Series, x: (t: number) => number, y: (v: number) => number, end: number): string {
  const d: string[] = [];
  let last: number | null = null;
  for (const p of s.points) {
    if (last === null) {
      if (p.v !== null) d.push(`M${n(x(p.t))} ${n(y(p.v))}`);
    } else {
      d.push(`H${n(x(p.t))}`);
      if (p.v !== null) d.push(`V${n(y(p.v))}`);
    }
    last = p.v;
  }
  if (last !== null) d.push(`H${n(x(end))}`);
  return d.join(' ') || 'M0 0';
}

function legend(series: Series[], actions: boolean, faults: boolean): string {
  const items = series.map((s) => `<span><svg viewBox="0 0 28 10"><line x1="0" x2="28" y1="5" y2="5" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/></svg>${esc(s.label)}</span>`);
  if (actions) items.push(`<span><svg viewBox="0 0 28 10"><line x1="14" x2="14" y1="0" y2="10" stroke="${ACTION_COLOR}" stroke-dasharray="3 2"/></svg>harness action</span>`);
  if (faults) items.push(`<span><svg viewBox="0 0 28 10"><rect x="0" y="0" width="28" height="10" fill="${FAULT_COLOR}" fill-opacity="0.12" stroke="${FAULT_COLOR}" stroke-opacity="0.3"/></svg>fault in force</span>`);
  return `<div class="legend">${items.join('')}</div>`;
}

/** "drain node" + "Node/node-2: cordon and evict 3 pod(s)" → "drain node node-2". */
function actionLabel(a: ActionEntry): string {
  const subject = a.detail.split(/: | \(/)[0] ?? '';
  const short = shortTarget(subject);
  return short && short.length <= 28 ? `${a.action} ${short}` : a.action;
}

function shortTarget(target: string): string {
  return target.replace(/^[A-Za-z]+\//, '');
}

function niceStep(raw: number): number {
  for (const s of [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600]) if (s >= raw) return s;
  return 7200;
}

function badge(status: ScenarioStatus): string {
  return `<span class="badge s-${status}">${status === 'not-applicable' ? 'not applicable' : status}</span>`;
}

function rel(at: number, start: number): string {
  return `+${seconds(at - start)}`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function round(v: number): string {
  return String(Math.round(v * 10) / 10);
}

function n(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
