/** Scenario lifecycle: a namespace and a timeline before; undo, report data and namespace deletion after. */
import { Before, After, BeforeStep, Status } from '@cucumber/cucumber';
import { Scenario } from '../src/scenario/scenario.js';
import { scenarioFigures } from '../src/report/figures.js';
import { SCENARIO_MEDIA_TYPE } from '../src/report/schema.js';
import { EnvironmentError } from '../src/errors.js';
import type { KubeproofWorld } from './world.js';

Before(async function (this: KubeproofWorld) {
  const p = this.parameters;
  if (p.kubeSystemUid) {
    const ns = await this.kube.get('Namespace', 'kube-system');
    if (ns.metadata?.uid !== p.kubeSystemUid) {
      throw new EnvironmentError(`the cluster behind context ${p.cluster.context} changed mid-run (kube-system uid ${p.kubeSystemUid} → ${ns.metadata?.uid}); stopping`);
    }
  }
  // The providers (execa, docker and kwokctl tooling) load with the first scenario, not with the steps: `kubeproof check` needs none.
  const { partsOf } = await import('../src/cluster/providers/handle.js');
  this.scenario = new Scenario(this.kube, { ...p.cluster }, partsOf(p.cluster), p.runId, Scenario.namespaceFor(p.runId), p.projectDir);
  this.scenario.planOnly = Boolean(p.plan);
  await this.scenario.begin();
});

After(async function (this: KubeproofWorld, { result }) {
  if (!this.hasScenario) return;
  const s = this.scenario;
  const failures = await s.end();
  if (s.planOnly) this.log(s.plans.length ? s.plans.join('\n') : 'plan: this scenario injects no fault');
  if (result?.status === Status.FAILED) s.timeline.mark('scenario failed', result.message?.split('\n')[0] ?? '');
  this.attach(JSON.stringify(s.data(scenarioFigures(s))), SCENARIO_MEDIA_TYPE);
  if (failures.length) throw new Error(`cleanup incomplete:\n  ${failures.join('\n  ')}`);
});

/** Remember where the running step is, so a broken docstring manifest is reported as file:line. */
BeforeStep(function (this: KubeproofWorld, { pickle, pickleStep, gherkinDocument }) {
  const id = pickleStep.astNodeIds[0];
  const steps = gherkinDocument.feature?.children.flatMap((c) => [...(c.background?.steps ?? []), ...(c.scenario?.steps ?? []), ...(c.rule?.children.flatMap((r) => [...(r.background?.steps ?? []), ...(r.scenario?.steps ?? [])]) ?? [])]) ?? [];
  const astStep = steps.find((st) => st.id === id);
  this.step = {
    file: pickle.uri,
    line: astStep?.location.line ?? 0,
    // The docstring's content starts on the line after its opening delimiter.
    docStringLine: astStep?.docString ? astStep.docString.location.line + 1 : undefined,
  };
});
