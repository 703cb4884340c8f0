import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttachmentContentEncoding, HookType, TestStepResultStatus, type Envelope, type Timestamp } from '@cucumber/messages';
import { SummaryCollector, buildRunSummary } from '../../src/report/summary.js';
import { renderTimelineHtml, writeReports } from '../../src/report/html.js';
import { renderConsoleSummary } from '../../src/report/console.js';
import { SCENARIO_MEDIA_TYPE, type ClusterInfo, type ScenarioData } from '../../src/report/schema.js';
import type { TimelineEntry } from '../../src/timeline/timeline.js';

/*
 * features/pod-kill.feature, as the envelopes below describe it:
 *
 *  1 @pod-kill
 *  2 Feature: Pods come back after being killed
 *  3
 *  4   Background:
 *  5     Given a cluster with 3 nodes
 *  6
 *  7   Scenario: web recovers after its pods are killed
 *  8     Given workload "web" from "scenarios/web.yaml"
 *  9     When 1 pod of deployment "web" is killed 3 times
 * 10     Then the p90 recovery is under 5 s
 * 11
 * 12   Scenario: a drain of node-2 respects the PodDisruptionBudget
 * 13     When node "node-2" is drained
 * 14     Then within 10 s deployment "db" has 2 ready replicas
 * 15
 * 16   Scenario: readiness settles
 * 17     Then within 5 s deployment "web" has 3 ready replicas
 * 18
 * 19   Scenario Outline: web survives a node failure by <mode>
 * 20     When node "node-3" goes down by <mode>
 * 21     Then within 60 s deployment "web" has 3 ready replicas
 * 22
 * 23     Examples:
 * 24       | mode       |
 * 25       | heartbeats |
 * 26       | power-off  |
 */
const URI = 'features/pod-kill.feature';
const T0 = Date.UTC(2025, 4, 12, 9, 30, 0);

const loc = (line: number, column = 5) => ({ line, column });
const step = (id: string, line: number, keyword: string, text: string) => ({ id, location: loc(line), keyword, text });

const gherkinDocument: Envelope = {
  gherkinDocument: {
    uri: URI,
    comments: [],
    feature: {
      location: loc(2, 1),
      tags: [{ id: 'tag-1', name: '@pod-kill', location: loc(1, 1) }],
      language: 'en',
      keyword: 'Feature',
      name: 'Pods come back after being killed',
      description: '',
      children: [
        { background: { id: 'bg', location: loc(4, 3), keyword: 'Background', name: '', description: '', steps: [step('bg-1', 5, 'Given ', 'a cluster with 3 nodes')] } },
        {
          scenario: {
            id: 'sc-web',
            location: loc(7, 3),
            tags: [],
            keyword: 'Scenario',
            name: 'web recovers after its pods are killed',
            description: '',
            examples: [],
            steps: [step('web-1', 8, 'Given ', 'workload "web" from "scenarios/web.yaml"'), step('web-2', 9, 'When ', '1 pod of deployment "web" is killed 3 times'), step('web-3', 10, 'Then ', 'the p90 recovery is under 5 s')],
          },
        },
        {
          scenario: {
            id: 'sc-drain',
            location: loc(12, 3),
            tags: [],
            keyword: 'Scenario',
            name: 'a drain of node-2 respects the PodDisruptionBudget',
            description: '',
            examples: [],
            steps: [step('drain-1', 13, 'When ', 'node "node-2" is drained'), step('drain-2', 14, 'Then ', 'within 10 s deployment "db" has 2 ready replicas')],
          },
        },
        {
          scenario: { id: 'sc-flaky', location: loc(16, 3), tags: [], keyword: 'Scenario', name: 'readiness settles', description: '', examples: [], steps: [step('flaky-1', 17, 'Then ', 'within 5 s deployment "web" has 3 ready replicas')] },
        },
        {
          scenario: {
            id: 'sc-node',
            location: loc(19, 3),
            tags: [],
            keyword: 'Scenario Outline',
            name: 'web survives a node failure by <mode>',
            description: '',
            steps: [step('node-1', 20, 'When ', 'node "node-3" goes down by <mode>'), step('node-2', 21, 'Then ', 'within 60 s deployment "web" has 3 ready replicas')],
            examples: [
              {
                id: 'ex',
                location: loc(23),
                tags: [],
                keyword: 'Examples',
                name: '',
                description: '',
                tableBody: [
                  { id: 'row-1', location: loc(25, 7), cells: [] },
                  { id: 'row-2', location: loc(26, 7), cells: [] },
                ],
              },
            ],
          },
        },
      ],
    },
  },
};

function pickle(id: string, name: string, astNodeIds: string[], steps: Array<[string, string, string[]]>): Envelope {
  // No `location`: older cucumber versions omit it, so the line must come from the AST.
  return { pickle: { id, uri: URI, name, language: 'en', astNodeIds, tags: [{ name: '@pod-kill', astNodeId: 'tag-1' }], steps: steps.map(([sid, text, ids]) => ({ id: sid, text, astNodeIds: ids })) } };
}

const bg = (id: string): [string, string, string[]] => [id, 'a cluster with 3 nodes', ['bg-1']];
const pickles: Envelope[] = [
  pickle('p-web', 'web recovers after its pods are killed', ['sc-web'], [bg('pw-0'), ['pw-1', 'workload "web" from "scenarios/web.yaml"', ['web-1']], ['pw-2', '1 pod of deployment "web" is killed 3 times', ['web-2']], ['pw-3', 'the p90 recovery is under 5 s', ['web-3']]]),
  pickle('p-drain', 'a drain of node-2 respects the PodDisruptionBudget', ['sc-drain'], [bg('pd-0'), ['pd-1', 'node "node-2" is drained', ['drain-1']], ['pd-2', 'within 10 s deployment "db" has 2 ready replicas', ['drain-2']]]),
  pickle('p-flaky', 'readiness settles', ['sc-flaky'], [bg('pf-0'), ['pf-1', 'within 5 s deployment "web" has 3 ready replicas', ['flaky-1']]]),
  pickle('p-node', 'web survives a node failure by power-off', ['sc-node', 'row-2'], [bg('pn-0'), ['pn-1', 'node "node-3" goes down by power-off', ['node-1', 'row-2']], ['pn-2', 'within 60 s deployment "web" has 3 ready replicas', ['node-2', 'row-2']]]),
];

const hooks: Envelope[] = [
  { hook: { id: 'h-before', type: HookType.BEFORE_TEST_CASE, sourceReference: { uri: 'steps/hooks.ts', location: { line: 8 } } } },
  { hook: { id: 'h-after', type: HookType.AFTER_TEST_CASE, sourceReference: { uri: 'steps/hooks.ts', location: { line: 19 } } } },
];

/** A test case: Before hook, the pickle's steps, After hook; test step ids are "<case>-s<i>". */
function testCase(id: string, pickleId: string, pickleStepIds: string[]): Envelope {
  const ids = [{ hookId: 'h-before' }, ...pickleStepIds.map((pickleStepId) => ({ pickleStepId, stepDefinitionIds: ['sd'] })), { hookId: 'h-after' }];
  return { testCase: { id, pickleId, testSteps: ids.map((s, i) => ({ id: `${id}-s${i}`, ...s })) } };
}
const testCases = [testCase('tc-web', 'p-web', ['pw-0', 'pw-1', 'pw-2', 'pw-3']), testCase('tc-drain', 'p-drain', ['pd-0', 'pd-1', 'pd-2']), testCase('tc-flaky', 'p-flaky', ['pf-0', 'pf-1']), testCase('tc-node', 'p-node', ['pn-0', 'pn-1', 'pn-2'])];

function ts(ms: number): Timestamp {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}
const started = (id: string, testCaseId: string, at: number, attempt = 0, workerId = '0'): Envelope => ({ testCaseStarted: { id, testCaseId, attempt, workerId, timestamp: ts(at) } });
const finished = (testCaseStartedId: string, at: number, willBeRetried = false): Envelope => ({ testCaseFinished: { testCaseStartedId, timestamp: ts(at), willBeRetried } });
function stepDone(testCaseStartedId: string, testStepId: string, at: number, status: TestStepResultStatus, error?: string): Envelope {
  return {
    testStepFinished: {
      testCaseStartedId,
      testStepId,
      timestamp: ts(at),
      testStepResult: { status, duration: { seconds: 0, nanos: 5e6 }, ...(error ? { message: `Error: ${error}\n    at World.<anonymous> (steps/expect.steps.ts:12:3)`, exception: { type: 'Error', message: error } } : {}) },
    },
  };
}
function attach(testCaseStartedId: string, testStepId: string, data: ScenarioData, encoding = AttachmentContentEncoding.IDENTITY): Envelope {
  const json = JSON.stringify(data);
  return { attachment: { testCaseStartedId, testStepId, mediaType: SCENARIO_MEDIA_TYPE, contentEncoding: encoding, body: encoding === AttachmentContentEncoding.BASE64 ? Buffer.from(json).toString('base64') : json } };
}

const cluster: ClusterInfo = {
  kind: 'local',
  name: 'kp-7f3a',
  context: 'kubeproof-kp-7f3a',
  serverVersion: 'v1.33.1',
  timings: {
    nodeMonitorGracePeriodSeconds: 8,
    nodeMonitorPeriodSeconds: 2,
    nodeHeartbeatSeconds: 2,
    defaultNotReadyTolerationSeconds: 10,
    defaultUnreachableTolerationSeconds: 10,
    hpaSyncPeriodSeconds: 5,
    hpaDownscaleStabilizationSeconds: 30,
    source: 'kubeproof-fast',
  },
};

const EVIL_POD = 'web-<script>alert(1)</script>';

/** What a pod-kill scenario's timeline looks like: web comes up, then three pods are killed and replaced. */
function webTimeline(t0: number): ScenarioData {
  const entries: TimelineEntry[] = [];
  const watch = (at: number, kind: string, name: string, type: 'added' | 'modified' | 'deleted', state: string, figures?: Record<string, number>) =>
    entries.push({ at: t0 + at, source: 'watch', kind, name, namespace: 'kp-a1b2c3', type, state, ...(figures ? { figures } : {}) });
  const ready = (at: number, n: number) => {
    watch(at, 'Deployment', 'web', 'modified', `${n}/3 ready, ${n} available`, { replicas: 3, ready: n, available: n, updated: 3 });
    watch(at + 10, 'ReplicaSet', 'web-7d9c5', 'modified', `${n}/3 ready, ${n} available`, { replicas: 3, ready: n, available: n, updated: 0 });
    watch(at + 40, 'EndpointSlice', 'web-x2k9p', 'modified', `${n}/${n} endpoints ready (service web)`, { ready: n, total: n });
  };
  entries.push({ at: t0 + 50, source: 'harness', action: 'apply', detail: 'scenarios/web.yaml: Deployment/web, Service/web, PodDisruptionBudget/web, HorizontalPodAutoscaler/web' });
  watch(120, 'Deployment', 'web', 'added', '0/3 ready, 0 available', { replicas: 3, ready: 0, available: 0, updated: 0 });
  watch(130, 'ReplicaSet', 'web-7d9c5', 'added', '0/3 ready, 0 available', { replicas: 3, ready: 0, available: 0, updated: 0 });
  watch(140, 'ReplicaSet', 'web-5f1aa', 'added', '0/0 ready, 0 available', { replicas: 0, ready: 0, available: 0, updated: 0 });
  watch(150, 'EndpointSlice', 'web-x2k9p', 'added', '0/0 endpoints ready (service web)', { ready: 0, total: 0 });
  watch(160, 'HorizontalPodAutoscaler', 'web', 'added', 'replicas 3 → 3, cpu 41%', { current: 3, desired: 3, cpuUtilization: 41 });
  const pods = ['web-7d9c5-aaaa1', 'web-7d9c5-bbbb2', EVIL_POD];
  pods.forEach((p, i) => {
    watch(200 + i * 20, 'Pod', p, 'added', 'Pending NotReady unscheduled', { available: 0 });
    watch(400 + i * 20, 'Pod', p, 'modified', `Running NotReady on node-${i + 1}`, { available: 0 });
    watch(900 + i * 600, 'Pod', p, 'modified', `Running Ready on node-${i + 1}`, { available: 1 });
    ready(910 + i * 600, i + 1);
  });
  const recoveries = [1840, 2010, 1900];
  recoveries.forEach((rec, i) => {
    const at = 4000 + i * 4000;
    const victim = pods[i]!;
    entries.push({ at: t0 + at, source: 'harness', action: 'kill pods', detail: `${victim} (seed ${42 + i})` });
    watch(at + 30, 'Pod', victim, 'modified', `Terminating NotReady on node-${i + 1}`, { available: 0 });
    ready(at + 40, 2);
    watch(at + 60, 'Pod', victim, 'deleted', 'deleted', { available: 0 });
    const fresh = `web-7d9c5-new${i}`;
    watch(at + 80, 'Pod', fresh, 'added', 'Pending NotReady unscheduled', { available: 0 });
    watch(at + 300, 'Pod', fresh, 'modified', `Running NotReady on node-${((i + 1) % 3) + 1}`, { available: 0 });
    watch(at + rec - 10, 'Pod', fresh, 'modified', `Running Ready on node-${((i + 1) % 3) + 1}`, { available: 1 });
    ready(at + rec - 10, 3);
    watch(at + rec + 200, 'Event', `${fresh}.17f3`, 'added', `Normal Started Pod/${fresh}: Started container web`);
  });
  watch(9200, 'HorizontalPodAutoscaler', 'web', 'modified', 'replicas 3 → 4, cpu 86%', { current: 3, desired: 4, cpuUtilization: 86 });
  watch(9800, 'HorizontalPodAutoscaler', 'web', 'modified', 'replicas 4 → 4, cpu 64%', { current: 4, desired: 4, cpuUtilization: 64 });
  entries.push({ at: t0 + 14_100, source: 'harness', action: 'held', detail: 'deployment web has 3 ready replicas for 2.00 s' });
  entries.sort((a, b) => a.at - b.at);
  return {
    namespace: 'kp-a1b2c3',
    cluster,
    startedAt: t0,
    endedAt: t0 + 14_600,
    measurements: [
      { name: 'recovery time of deployment web', value: 1840, unit: 'ms', detail: { fault: `${EVIL_POD} (seed 42)` } },
      {
        name: 'recovery of deployment web over 3 pod-kill trials (3 ready replicas)',
        value: 2010,
        unit: 'ms',
        detail: { statistic: 'p90', trialsMs: recoveries, seeds: [42, 43, 44], p50: 1900, p90: 2010, p95: 2010, max: 2010, mean: 1917 },
      },
    ],
    entries,
    entriesDropped: 0,
    faults: recoveries.map((_, i) => ({ id: `kill-pods-${i + 1}`, type: 'kill pods', target: `Pod/${pods[i]}`, injectedAt: t0 + 4000 + i * 4000, revert: 'none' as const, detail: 'delete 1 pod (replacing them is the controller\'s job, and what is asserted)' })),
  };
}

function drainTimeline(t0: number): ScenarioData {
  const e = (at: number, rest: Omit<Extract<TimelineEntry, { source: 'watch' }>, 'at' | 'source' | 'namespace'>): TimelineEntry => ({ at: t0 + at, source: 'watch', namespace: 'kp-d4e5f6', ...rest });
  const h = (at: number, action: string, detail: string): TimelineEntry => ({ at: t0 + at, source: 'harness', action, detail });
  const db = (at: number, ready: number) => e(at, { kind: 'Deployment', name: 'db', type: 'modified', state: `${ready}/2 ready, ${ready} available`, figures: { replicas: 2, ready, available: ready, updated: 2 } });
  return {
    namespace: 'kp-d4e5f6',
    cluster,
    startedAt: t0,
    endedAt: t0 + 15_000,
    measurements: [{ name: 'drain of node node-2 (gave up)', value: 10_020, unit: 'ms', detail: { pods: [{ pod: 'kp-d4e5f6/db-1', refusals: 14, blockedBy: ['db'], blockedMs: 9800 }], gaveUp: { pods: ['kp-d4e5f6/db-1'], blockedBy: ['db'] } } }],
    entries: [
      h(40, 'apply', 'scenarios/db.yaml: Deployment/db, PodDisruptionBudget/db'),
      db(500, 1),
      db(1100, 2),
      e(1150, { kind: 'PodDisruptionBudget', name: 'db', type: 'modified', state: 'disruptionsAllowed 0, healthy 2/2', figures: { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2 } }),
      h(3000, 'drain node', 'Node/node-2: cordon and evict 2 pod(s)'),
      e(3020, { kind: 'Node', name: 'node-2', type: 'modified', state: 'Ready=True cordoned' }),
      h(3100, 'eviction refused', "kp-d4e5f6/db-1: Cannot evict pod as it would violate the pod's disruption budget. (PodDisruptionBudget db)"),
      db(3300, 1),
      h(13_020, 'drain gave up', 'node node-2: 1 pod(s) not evicted after 10 s, blocked by PodDisruptionBudget db'),
      h(13_100, 'scenario failed', 'within 10 s deployment "db" has 2 ready replicas: timed out'),
      h(14_500, 'revert', 'Node/node-2: uncordoned'),
    ],
    entriesDropped: 0,
    faults: [{ id: 'drain-node-1', type: 'drain node', target: 'Node/node-2', injectedAt: t0 + 3000, revertedAt: t0 + 14_500, revert: 'reverted', detail: 'cordon and evict 2 pod(s); undo: uncordoned' }],
  };
}

const DRAIN_ERROR = 'within 10 s deployment "db" has 2 ready replicas: timed out after 10 s\n  expected: 2 ready\n  last seen: 1 ready (db-2 Pending unscheduled)\n  recent events:\n    Warning FailedScheduling Pod/db-2: 0/3 nodes are available: 1 node(s) were unschedulable';

/** The stream a run with two parallel workers produces: the web and drain scenarios interleave; "readiness settles" needs a retry. */
function runEnvelopes(): Envelope[] {
  const t = T0;
  const web = webTimeline(t + 100);
  const drain = drainTimeline(t + 120);
  const flaky = (ns: string): ScenarioData => ({ namespace: ns, cluster, startedAt: t + 20_000, endedAt: t + 21_000, measurements: [], entries: [], entriesDropped: 0, faults: [] });
  const node: ScenarioData = { ...flaky('kp-n0d3'), notApplicable: 'the kind cluster gives kubeproof no way to stop a node' };
  return [
    { meta: { protocolVersion: '32.3.1', implementation: { name: 'cucumber-js' }, runtime: { name: 'node' }, os: { name: 'linux' }, cpu: { name: 'x64' } } },
    gherkinDocument,
    ...pickles,
    ...hooks,
    { testRunStarted: { timestamp: ts(t) } },
    ...testCases,
    started('w1', 'tc-web', t + 50, 0, '0'),
    started('d1', 'tc-drain', t + 60, 0, '1'),
    stepDone('w1', 'tc-web-s0', t + 100, TestStepResultStatus.PASSED),
    stepDone('d1', 'tc-drain-s0', t + 120, TestStepResultStatus.PASSED),
    stepDone('w1', 'tc-web-s1', t + 150, TestStepResultStatus.PASSED),
    stepDone('d1', 'tc-drain-s1', t + 180, TestStepResultStatus.PASSED),
    stepDone('w1', 'tc-web-s2', t + 2600, TestStepResultStatus.PASSED),
    stepDone('d1', 'tc-drain-s2', t + 13_100, TestStepResultStatus.PASSED),
    stepDone('w1', 'tc-web-s3', t + 14_000, TestStepResultStatus.PASSED),
    stepDone('d1', 'tc-drain-s3', t + 13_150, TestStepResultStatus.FAILED, DRAIN_ERROR),
    stepDone('w1', 'tc-web-s4', t + 14_200, TestStepResultStatus.PASSED),
    attach('w1', 'tc-web-s5', web),
    attach('d1', 'tc-drain-s4', drain, AttachmentContentEncoding.BASE64),
    stepDone('w1', 'tc-web-s5', t + 14_700, TestStepResultStatus.PASSED),
    stepDone('d1', 'tc-drain-s4', t + 15_100, TestStepResultStatus.PASSED),
    finished('d1', t + 15_160),
    finished('w1', t + 14_750),
    // Attempt 0 of "readiness settles" fails and is retried; only attempt 1 counts.
    started('f1', 'tc-flaky', t + 20_000, 0, '1'),
    stepDone('f1', 'tc-flaky-s0', t + 20_010, TestStepResultStatus.PASSED),
    stepDone('f1', 'tc-flaky-s1', t + 20_020, TestStepResultStatus.PASSED),
    stepDone('f1', 'tc-flaky-s2', t + 25_020, TestStepResultStatus.FAILED, 'within 5 s deployment "web" has 3 ready replicas: timed out'),
    attach('f1', 'tc-flaky-s3', flaky('kp-f1rst')),
    stepDone('f1', 'tc-flaky-s3', t + 25_100, TestStepResultStatus.PASSED),
    finished('f1', t + 25_110, true),
    started('n1', 'tc-node', t + 25_000, 0, '0'),
    started('f2', 'tc-flaky', t + 25_200, 1, '1'),
    stepDone('f2', 'tc-flaky-s0', t + 25_210, TestStepResultStatus.PASSED),
    stepDone('n1', 'tc-node-s0', t + 25_220, TestStepResultStatus.PASSED),
    stepDone('f2', 'tc-flaky-s1', t + 25_230, TestStepResultStatus.PASSED),
    stepDone('n1', 'tc-node-s1', t + 25_240, TestStepResultStatus.PASSED),
    stepDone('f2', 'tc-flaky-s2', t + 26_230, TestStepResultStatus.PASSED),
    // The step that needs a stoppable node returns "skipped"; the rest is skipped after it.
    stepDone('n1', 'tc-node-s2', t + 25_250, TestStepResultStatus.SKIPPED),
    stepDone('n1', 'tc-node-s3', t + 25_250, TestStepResultStatus.SKIPPED),
    attach('n1', 'tc-node-s4', node),
    attach('f2', 'tc-flaky-s3', flaky('kp-s3c0nd')),
    stepDone('n1', 'tc-node-s4', t + 25_400, TestStepResultStatus.PASSED),
    stepDone('f2', 'tc-flaky-s3', t + 26_300, TestStepResultStatus.PASSED),
    finished('n1', t + 25_420),
    finished('f2', t + 26_310),
    { testRunFinished: { success: false, timestamp: ts(t + 26_400) } },
  ];
}

function collect(envelopes: Envelope[]) {
  const c = new SummaryCollector();
  for (const e of envelopes) c.onMessage(e);
  return c.scenarios();
}

function runSummary() {
  return buildRunSummary({ runId: '20250512-093000-ab12', startedAt: new Date(T0 - 5000), finishedAt: new Date(T0 + 27_000), kubeproofVersion: '0.1.0', cluster, scenarios: collect(runEnvelopes()), exitCode: 1 });
}

describe('SummaryCollector', () => {
  const [web, drain, flaky, node, ...rest] = collect(runEnvelopes());

  it('lists every scenario once, in plan order, whatever order the workers finished in', () => {
    assert.equal(rest.length, 0);
    assert.deepEqual([web, drain, flaky, node].map((s) => s?.name), ['web recovers after its pods are killed', 'a drain of node-2 respects the PodDisruptionBudget', 'readiness settles', 'web survives a node failure by power-off']);
  });

  it('summarizes a passing scenario with its attached data', () => {
    assert.ok(web);
    assert.equal(web.status, 'passed');
    assert.equal(web.feature, 'Pods come back after being killed');
    assert.equal(web.location, 'features/pod-kill.feature:7');
    assert.deepEqual(web.tags, ['@pod-kill']);
    assert.equal(web.durationMs, 14_700);
    assert.equal(web.error, undefined);
    assert.equal(web.failedStep, undefined);
    assert.equal(web.data?.namespace, 'kp-a1b2c3');
    assert.equal(web.data?.measurements[0]?.value, 1840);
    assert.deepEqual(web.data?.measurements[1]?.detail?.trialsMs, [1840, 2010, 1900]);
    assert.ok((web.data?.entries.length ?? 0) > 50);
  });

  it('names the first failing step with its line and the error, and reads a base64 attachment', () => {
    assert.ok(drain);
    assert.equal(drain.status, 'failed');
    assert.equal(drain.location, 'features/pod-kill.feature:12');
    assert.equal(drain.durationMs, 15_100);
    assert.deepEqual(drain.failedStep, { text: 'within 10 s deployment "db" has 2 ready replicas', location: 'features/pod-kill.feature:14' });
    assert.equal(drain.error, DRAIN_ERROR);
    assert.equal(drain.data?.faults[0]?.target, 'Node/node-2');
  });

  it('counts only the last attempt of a retried scenario', () => {
    assert.ok(flaky);
    assert.equal(flaky.status, 'passed');
    assert.equal(flaky.durationMs, 1110);
    assert.equal(flaky.error, undefined);
    assert.equal(flaky.data?.namespace, 'kp-s3c0nd');
  });

  it('reports a scenario whose step was not applicable as not-applicable, located at its example row', () => {
    assert.ok(node);
    assert.equal(node.status, 'not-applicable');
    assert.equal(node.location, 'features/pod-kill.feature:26');
    assert.match(node.data?.notApplicable ?? '', /no way to stop a node/);
  });

  it('takes the line from the pickle when cucumber gives it, and blames a failing After hook', () => {
    const envelopes = runEnvelopes().map((e): Envelope => {
      if (e.pickle?.id === 'p-web') return { pickle: { ...e.pickle, location: { line: 7, column: 3 } } };
      if (e.testStepFinished?.testStepId === 'tc-web-s5') return stepDone('w1', 'tc-web-s5', T0 + 14_700, TestStepResultStatus.FAILED, 'cleanup incomplete:\n  revert drain node of Node/node-2: 409 Conflict');
      if (e.attachment?.testCaseStartedId === 'n1') return attach('n1', 'tc-node-s4', { ...webTimeline(T0), notApplicable: 'no way to stop a node' });
      if (e.testStepFinished?.testStepId === 'tc-node-s4') return stepDone('n1', 'tc-node-s4', T0 + 25_400, TestStepResultStatus.FAILED, 'cleanup incomplete: namespace kp-n0d3 still terminating');
      return e;
    });
    const [web2, , , node2] = collect(envelopes);
    assert.equal(web2?.location, 'features/pod-kill.feature:7');
    assert.equal(web2?.status, 'failed');
    assert.deepEqual(web2?.failedStep, { text: 'After hook', location: 'steps/hooks.ts:19' });
    assert.match(web2?.error ?? '', /^cleanup incomplete/);
    // An incomplete cleanup is a real failure, not hidden behind "not applicable".
    assert.equal(node2?.status, 'failed');
  });

  it('times every step and hook: when it started, how long it took, how it ended', () => {
    // Each step starts 5 ms before it finishes, as its 5 ms duration says.
    const withStarts = runEnvelopes().flatMap((e): Envelope[] => {
      const f = e.testStepFinished;
      if (!f) return [e];
      const at = f.timestamp.seconds * 1000 + f.timestamp.nanos / 1e6 - 5;
      return [{ testStepStarted: { testCaseStartedId: f.testCaseStartedId, testStepId: f.testStepId, timestamp: ts(at) } }, e];
    });
    const [timedWeb, timedDrain] = collect(withStarts);
    const steps = timedWeb?.steps ?? [];
    assert.equal(steps.length, 6, JSON.stringify(steps));
    assert.match(steps[0]!.text, /^Before hook/);
    assert.match(steps.at(-1)!.text, /^After hook/);
    assert.match(steps[1]!.location, /^features\/pod-kill\.feature:\d+$/);
    for (const st of steps) {
      assert.equal(st.durationMs, 5);
      assert.equal(st.status, 'passed');
      assert.ok(Date.parse(st.startedAt) >= T0, st.startedAt);
    }
    // In the order they ran.
    assert.deepEqual([...steps].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt)), steps);
    assert.ok(timedDrain?.steps?.some((st) => st.status === 'failed'), 'the failing step is marked failed');
  });

  it('tolerates an attachment that is not JSON', () => {
    const envelopes = runEnvelopes().map((e): Envelope => (e.attachment?.testCaseStartedId === 'w1' ? { attachment: { ...e.attachment, body: '{not json' } } : e));
    const [web3] = collect(envelopes);
    assert.equal(web3?.status, 'passed');
    assert.equal(web3?.data, undefined);
  });
});

describe('buildRunSummary', () => {
  it('counts the totals and keeps the schema version', () => {
    const summary = runSummary();
    assert.equal(summary.schemaVersion, 1);
    assert.deepEqual(summary.totals, { scenarios: 4, passed: 2, failed: 1, skipped: 0, notApplicable: 1 });
    assert.equal(summary.durationMs, 32_000);
    assert.equal(summary.startedAt, new Date(T0 - 5000).toISOString());
    assert.equal(summary.cluster?.name, 'kp-7f3a');
  });
});

describe('renderTimelineHtml', () => {
  const summary = runSummary();
  const html = renderTimelineHtml(summary);

  it('shows every scenario with a chart and the harness actions', () => {
    for (const s of summary.scenarios) assert.ok(html.includes(s.name), `missing ${s.name}`);
    assert.ok(html.startsWith('<!doctype html>'));
    assert.equal((html.match(/<svg class="chart"/g) ?? []).length, 2, "a chart for each scenario with a timeline");
    assert.ok(html.includes('kill pods'));
    assert.ok(html.includes('drain node node-2'));
    assert.ok(html.includes('Deployment web ready'));
    assert.ok(html.includes('HPA web desired replicas'));
    assert.ok(html.includes('drain node node-2</text>'), 'the drain is shaded and labelled as a fault');
    assert.ok(html.includes('not applicable'));
  });

  it('states the cluster and the timings in force', () => {
    assert.ok(html.includes('v1.33.1'));
    assert.ok(html.includes('node-monitor-grace-period'));
    assert.ok(html.includes('kubeproof-fast'));
  });

  it('shows the figures and the failure', () => {
    assert.ok(html.includes('recovery time of deployment web'));
    assert.ok(html.includes('1.84 s'));
    assert.ok(html.includes('<pre class="error">within 10 s deployment &quot;db&quot; has 2 ready replicas: timed out after 10 s\n'));
    assert.ok(html.includes('features/pod-kill.feature:14'));
  });

  it('escapes names and is self-contained', () => {
    assert.ok(!html.includes('<script'), 'a pod name injected markup');
    assert.ok(html.includes('web-&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.doesNotMatch(html, /https?:\/\//);
    assert.doesNotMatch(html, /<link|src=/);
  });

  it('folds a long timeline into <details>', () => {
    assert.equal((html.match(/<details>/g) ?? []).length, 1);
  });

  it('writes summary.json and timeline.html', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubeproof-report-'));
    try {
      const paths = await writeReports(join(dir, 'run'), summary);
      assert.deepEqual(JSON.parse(await readFile(paths.summaryPath, 'utf8')), JSON.parse(JSON.stringify(summary)));
      assert.equal(await readFile(paths.timelinePath, 'utf8'), html);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // To look at the page: KUBEPROOF_TIMELINE_EXAMPLE=/tmp/timeline-example.html node --test dist/test/unit/report.test.js
    if (process.env.KUBEPROOF_TIMELINE_EXAMPLE) await writeFile(process.env.KUBEPROOF_TIMELINE_EXAMPLE, html);
  });
});

describe('renderConsoleSummary', () => {
  const summary = runSummary();

  it('lists each scenario with its mark, location and figures', () => {
    const text = renderConsoleSummary(summary, { reports: { summaryPath: 'reports/x/summary.json', timelinePath: 'reports/x/timeline.html' } });
    const lines = text.split('\n');
    assert.ok(lines.some((l) => l.startsWith('✔   web recovers after its pods are killed  features/pod-kill.feature:7  14.7 s')), text);
    assert.ok(lines.some((l) => l.startsWith('✘   a drain of node-2 respects the PodDisruptionBudget  features/pod-kill.feature:12')), text);
    assert.ok(lines.some((l) => l.startsWith('n/a web survives a node failure by power-off')), text);
    assert.ok(text.includes('recovery time of deployment web: 1.84 s'));
    assert.ok(text.includes('p90 recovery of deployment web over 3 pod-kill trials (3 ready replicas): 2.01 s (trials: 1.84, 2.01, 1.90 s)'), text);
    assert.ok(text.includes('p50 1.90 s · p95 2.01 s · max 2.01 s · mean 1.92 s'), text);
    assert.ok(text.includes('failed at "within 10 s deployment "db" has 2 ready replicas" (features/pod-kill.feature:14)'), text);
    assert.ok(text.includes('      last seen: 1 ready'), text);
    assert.ok(text.includes('not applicable: the kind cluster gives kubeproof no way to stop a node'));
    assert.ok(text.includes('4 scenarios: 2 passed, 1 failed, 1 not applicable'));
    assert.ok(text.includes('timeline: reports/x/timeline.html'));
    assert.doesNotMatch(text, /\x1b\[/);
  });

  it('colors only when asked', () => {
    assert.match(renderConsoleSummary(summary, { color: true }), /\x1b\[32m✔/);
  });
});
