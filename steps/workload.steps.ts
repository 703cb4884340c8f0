import { step } from './vocabulary.js';
import { docStringWhere } from './world.js';
import { applyPath, applyText, deployWorkload, expectRejected, parsePatch } from '../src/workload/deploy.js';
import { labelObject, patchObject, scaleWorkload, setImage } from '../src/workload/change.js';
import { expectWithin } from '../src/expect/expect.js';
import { rolloutComplete } from '../src/expect/conditions.js';
import type { WorkloadKind } from '../src/workload/pods.js';

const { given, when, then } = step('workloads');
const DEFAULT_READY_WITHIN = 60_000;

given('the manifest {string} is applied', 'Given the manifest "scenarios/web/service.yaml" is applied', async function (path: string) {
  await applyPath(this.scenario, path, this.step);
}, { applies: (path: string) => ({ paths: [path] }) });

given('the manifests in {string} are applied', 'Given the manifests in "scenarios/web" are applied', async function (path: string) {
  await applyPath(this.scenario, path, this.step);
}, { applies: (path: string) => ({ paths: [path] }) });

given('this manifest is applied:', 'Given this manifest is applied:', async function (text: string) {
  await applyText(this.scenario, text, docStringWhere(this));
}, { applies: () => ({ docString: 'manifest' }) });

given('{workload} {string} from {string} is ready', 'Given deployment "web" from "scenarios/web" is ready', async function (kind: WorkloadKind, name: string, path: string) {
  await deployWorkload(this.scenario, { kind, name }, path, DEFAULT_READY_WITHIN, this.step);
}, {
  applies: (_kind: WorkloadKind, _name: string, path: string) => ({ paths: [path] }),
  hint: (kind: WorkloadKind, name: string, path: string) => (kind === 'Job' ? `a Job is "ready" once it has completed, and this step waits for that: say "Given job "${name}" from "${path}" has run to completion"` : undefined),
});

given('job {string} from {string} has run to completion', 'Given job "migrate" from "scenarios/workloads/job.yaml" has run to completion', async function (name: string, path: string) {
  await deployWorkload(this.scenario, { kind: 'Job', name }, path, DEFAULT_READY_WITHIN, this.step);
}, { applies: (_name: string, path: string) => ({ paths: [path] }) });

when('{workload} {string} is scaled to {int} replica(s)', 'When deployment "web" is scaled to 5 replicas', async function (kind: WorkloadKind, name: string, replicas: number) {
  await scaleWorkload(this.scenario, { kind, name }, replicas);
}, { requires: (kind: WorkloadKind) => (kind === 'DaemonSet' || kind === 'Job' ? { refuse: `a ${kind} cannot be scaled by replicas` } : undefined) });

when('the image of {workload} {string} is set to {string}', 'When the image of deployment "web" is set to "kubeproof.local/testapp:2"', async function (kind: WorkloadKind, name: string, image: string) {
  await setImage(this.scenario, { kind, name }, image);
});

when('{kind} {string} is patched with:', 'When deployment "web" is patched with:', async function (kind: string, name: string, text: string) {
  await patchObject(this.scenario, kind, name, parsePatch(text, docStringWhere(this)));
}, { applies: () => ({ docString: 'patch' }) });

when('{kind} {string} is labelled {string}', 'When deployment "web" is labelled "tier=frontend"', async function (kind: string, name: string, label: string) {
  await labelObject(this.scenario, kind, name, label);
});

then('within {duration} the rollout of deployment {string} completes', 'Then within 60 s the rollout of deployment "web" completes', async function (within: number, name: string) {
  await expectWithin(this.scenario, rolloutComplete(this.scenario.timeline, name), within);
});

then(
  'the API server rejects this manifest with status {int} and a message containing {string}:',
  'Then the API server rejects this manifest with status 403 and a message containing "exceeded quota":',
  async function (status: number, message: string, text: string) {
    await expectRejected(this.scenario, text, docStringWhere(this), status, message);
  },
  { applies: () => ({ docString: 'rejected' }) },
);
