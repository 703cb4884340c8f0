/**
 * Turns cucumber's message stream into one ScenarioSummary per scenario (or example row),
 * joined with the ScenarioData each scenario attached. Messages are matched by id, never by
 * arrival order, so interleaved parallel workers and retried attempts come out right.
 */
import { AttachmentContentEncoding, TestStepResultStatus, type Envelope, type FeatureChild, type GherkinDocument, type RuleChild, type Hook, type Pickle, type TestCase, type TestStepResult, type Timestamp, type Duration } from '@cucumber/messages';
import { SCENARIO_MEDIA_TYPE, SUMMARY_SCHEMA_VERSION, type ClusterInfo, type LeftAsFound, type RunSummary, type ScenarioData, type ScenarioStatus, type ScenarioSummary } from './schema.js';

interface Attempt {
  testCaseId: string;
  attempt: number;
  startedAt: number;
  finishedAt?: number;
  willBeRetried: boolean;
  /** In the order they finished, which is the order they ran. */
  steps: Array<{ testStepId: string; result: TestStepResult }>;
  /** testStepId → when it started. */
  stepStarts: Map<string, number>;
  data?: ScenarioData;
}

/** Worst first; a scenario takes the status of its worst step. */
const SEVERITY: Array<[TestStepResultStatus, ScenarioStatus]> = [
  [TestStepResultStatus.FAILED, 'failed'],
  [TestStepResultStatus.UNDEFINED, 'undefined'],
  [TestStepResultStatus.AMBIGUOUS, 'ambiguous'],
  [TestStepResultStatus.PENDING, 'pending'],
  [TestStepResultStatus.UNKNOWN, 'unknown'],
  [TestStepResultStatus.SKIPPED, 'skipped'],
  [TestStepResultStatus.PASSED, 'passed'],
];

export class SummaryCollector {
  private readonly features = new Map<string, string>();
  /** Line of every Gherkin node a pickle can point at: scenarios, example rows, steps. */
  private readonly astLines = new Map<string, number>();
  private readonly pickles = new Map<string, Pickle>();
  private readonly hooks = new Map<string, Hook>();
  /** In the order cucumber planned them, so the summary's order does not depend on which worker finished first. */
  private readonly testCases = new Map<string, TestCase>();
  private readonly attempts = new Map<string, Attempt>();
  /** The attempt that counts for each test case: the last one not followed by a retry. */
  private readonly final = new Map<string, string>();

  onMessage(envelope: Envelope): void {
    if (envelope.gherkinDocument) this.indexDocument(envelope.gherkinDocument);
    else if (envelope.pickle) this.pickles.set(envelope.pickle.id, envelope.pickle);
    else if (envelope.hook) this.hooks.set(envelope.hook.id, envelope.hook);
    else if (envelope.testCase) this.testCases.set(envelope.testCase.id, envelope.testCase);
    else if (envelope.testCaseStarted) {
      const t = envelope.testCaseStarted;
      this.attempts.set(t.id, { testCaseId: t.testCaseId, attempt: t.attempt, startedAt: epochMs(t.timestamp), willBeRetried: false, steps: [], stepStarts: new Map() });
      // Until it finishes, the newest attempt is the one to report (an interrupted run still shows it).
      this.final.set(t.testCaseId, t.id);
    } else if (envelope.testStepStarted) {
      const t = envelope.testStepStarted;
      this.attempts.get(t.testCaseStartedId)?.stepStarts.set(t.testStepId, epochMs(t.timestamp));
    } else if (envelope.testStepFinished) {
      const t = envelope.testStepFinished;
      this.attempts.get(t.testCaseStartedId)?.steps.push({ testStepId: t.testStepId, result: t.testStepResult });
    } else if (envelope.testCaseFinished) {
      const t = envelope.testCaseFinished;
      const a = this.attempts.get(t.testCaseStartedId);
      if (a) {
        a.finishedAt = epochMs(t.timestamp);
        a.willBeRetried = t.willBeRetried;
      }
    } else if (envelope.attachment) {
      const att = envelope.attachment;
      if (att.mediaType !== SCENARIO_MEDIA_TYPE || !att.testCaseStartedId) return;
      const a = this.attempts.get(att.testCaseStartedId);
      const data = parseScenarioData(att.body, att.contentEncoding);
      if (a && data) a.data = data;
    }
  }

  /** One summary per test case that started, in plan order. */
  scenarios(): ScenarioSummary[] {
    const out: ScenarioSummary[] = [];
    for (const tc of this.testCases.values()) {
      const attemptId = this.final.get(tc.id);
      const attempt = attemptId ? this.attempts.get(attemptId) : undefined;
      const pickle = this.pickles.get(tc.pickleId);
      if (!attempt || !pickle) continue;
      out.push(this.summarize(tc, pickle, attempt));
    }
    return out;
  }

  private summarize(tc: TestCase, pickle: Pickle, attempt: Attempt): ScenarioSummary {
    const line = pickle.location?.line ?? this.astLines.get(pickle.astNodeIds.at(-1) ?? '') ?? 0;
    const summary: ScenarioSummary = {
      name: pickle.name,
      feature: this.features.get(pickle.uri) ?? '',
      location: `${pickle.uri}:${line}`,
      tags: pickle.tags.map((t) => t.name),
      status: attempt.finishedAt === undefined ? 'unknown' : worstStatus(attempt.steps.map((s) => s.result.status)),
      durationMs: Math.max(0, Math.round((attempt.finishedAt ?? attempt.startedAt) - attempt.startedAt)),
    };
    const failed = attempt.steps.find((s) => s.result.status === TestStepResultStatus.FAILED);
    if (failed) {
      summary.error = failed.result.exception?.message ?? failed.result.message ?? 'failed without a message';
      summary.failedStep = this.describeStep(tc, pickle, failed.testStepId);
    }
    summary.steps = attempt.steps.map((s) => {
      const { text, location } = this.describeStep(tc, pickle, s.testStepId);
      const startedAt = attempt.stepStarts.get(s.testStepId) ?? attempt.startedAt;
      return { text, location, status: worstStatus([s.result.status]), startedAt: new Date(startedAt).toISOString(), durationMs: Math.round(epochMs(s.result.duration)) };
    });
    if (attempt.data) {
      summary.data = attempt.data;
      // A real failure (e.g. an incomplete cleanup in the After hook) is not hidden behind "not applicable".
      if (attempt.data.notApplicable && summary.status !== 'failed') summary.status = 'not-applicable';
      else if (attempt.data.plans && (summary.status === 'passed' || summary.status === 'skipped')) summary.status = 'planned';
    }
    return summary;
  }

  private describeStep(tc: TestCase, pickle: Pickle, testStepId: string): { text: string; location: string } {
    const testStep = tc.testSteps.find((s) => s.id === testStepId);
    if (testStep?.pickleStepId) {
      const step = pickle.steps.find((s) => s.id === testStep.pickleStepId);
      const line = this.astLines.get(step?.astNodeIds[0] ?? '');
      return { text: step?.text ?? '(unknown step)', location: line === undefined ? pickle.uri : `${pickle.uri}:${line}` };
    }
    const hook = testStep?.hookId ? this.hooks.get(testStep.hookId) : undefined;
    const firstStep = tc.testSteps.findIndex((s) => s.pickleStepId);
    const before = hook?.type ? hook.type.startsWith('BEFORE') : tc.testSteps.indexOf(testStep!) < firstStep;
    const ref = hook?.sourceReference;
    return {
      text: `${before ? 'Before' : 'After'} hook${hook?.name ? ` "${hook.name}"` : ''}`,
      location: ref?.uri ? `${ref.uri}${ref.location ? `:${ref.location.line}` : ''}` : '(hook)',
    };
  }

  private indexDocument(doc: GherkinDocument): void {
    if (!doc.uri || !doc.feature) return;
    this.features.set(doc.uri, doc.feature.name);
    const walk = (children: ReadonlyArray<FeatureChild | RuleChild>) => {
      for (const c of children) {
        for (const s of c.background?.steps ?? []) this.astLines.set(s.id, s.location.line);
        if (c.scenario) {
          this.astLines.set(c.scenario.id, c.scenario.location.line);
          for (const s of c.scenario.steps) this.astLines.set(s.id, s.location.line);
          for (const ex of c.scenario.examples) for (const row of ex.tableBody) this.astLines.set(row.id, row.location.line);
        }
        if ('rule' in c && c.rule) walk(c.rule.children);
      }
    };
    walk(doc.feature.children);
  }
}

function worstStatus(statuses: TestStepResultStatus[]): ScenarioStatus {
  if (statuses.length === 0) return 'unknown';
  for (const [status, scenarioStatus] of SEVERITY) if (statuses.includes(status)) return scenarioStatus;
  return 'unknown';
}

/** A message's Timestamp (since the epoch) or Duration, both seconds + nanos, in milliseconds. */
function epochMs(t: Timestamp | Duration): number {
  return t.seconds * 1000 + t.nanos / 1e6;
}

function parseScenarioData(body: string, encoding: AttachmentContentEncoding): ScenarioData | undefined {
  try {
    const text = encoding === AttachmentContentEncoding.BASE64 ? Buffer.from(body, 'base64').toString('utf8') : body;
    const data = JSON.parse(text) as ScenarioData;
    return data && typeof data === 'object' ? data : undefined;
  } catch {
    // A malformed attachment costs the scenario its figures, not the whole report.
    return undefined;
  }
}

export function buildRunSummary(opts: {
  runId: string;
  startedAt: Date;
  finishedAt: Date;
  kubeproofVersion: string;
  cluster?: ClusterInfo;
  scenarios: ScenarioSummary[];
  exitCode: number;
  leftAsFound?: LeftAsFound;
}): RunSummary {
  const count = (...statuses: ScenarioStatus[]) => opts.scenarios.filter((s) => statuses.includes(s.status)).length;
  const cluster = opts.cluster ?? opts.scenarios.find((s) => s.data)?.data?.cluster;
  return {
    schemaVersion: SUMMARY_SCHEMA_VERSION,
    runId: opts.runId,
    startedAt: opts.startedAt.toISOString(),
    finishedAt: opts.finishedAt.toISOString(),
    durationMs: opts.finishedAt.getTime() - opts.startedAt.getTime(),
    kubeproofVersion: opts.kubeproofVersion,
    ...(cluster ? { cluster } : {}),
    totals: {
      scenarios: opts.scenarios.length,
      passed: count('passed'),
      // Whatever did not run to a verdict counts against the run, as cucumber's strict mode does.
      failed: count('failed', 'undefined', 'ambiguous', 'pending', 'unknown'),
      skipped: count('skipped'),
      notApplicable: count('not-applicable'),
      ...(count('planned') ? { planned: count('planned') } : {}),
    },
    exitCode: opts.exitCode,
    ...(opts.leftAsFound ? { leftAsFound: opts.leftAsFound } : {}),
    scenarios: opts.scenarios,
  };
}
