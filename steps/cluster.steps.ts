import { step } from './vocabulary.js';
import { ensureNodes, addNodes, nodeSpecFromRows, requireSimulatedContainers } from '../src/scenario/requirements.js';
import type { DataTable } from '@cucumber/cucumber';

const { given } = step('cluster');

given('a cluster', 'Given a cluster', async function () {
  await ensureNodes(this.scenario, { count: 1 });
});

given('the current kubeconfig context', 'Given the current kubeconfig context', async function () {
  await ensureNodes(this.scenario, { count: 1 });
});

// "a local cluster with 3 nodes" meant at least 3, on any cluster: said so now, the old wording still matched.
given('a cluster with at least {int} Ready node(s)', 'Given a cluster with at least 3 Ready nodes', async function (count: number) {
  await ensureNodes(this.scenario, { count });
}, { also: ['a local cluster with {int} node(s)'] });

given('a cluster with at least {int} Ready node(s) in zones {names}', 'Given a cluster with at least 3 Ready nodes in zones a, b and c', async function (count: number, zones: string[]) {
  await ensureNodes(this.scenario, { count, zones });
}, { also: ['a local cluster with {int} node(s) in zones {names}'] });

given('a KWOK node {string} with:', 'Given a KWOK node "big-1" with:', async function (name: string, table: DataTable) {
  await addNodes(this.scenario, [nodeSpecFromRows(name, table.raw())]);
});

given('containers simulated by KWOK', 'Given containers simulated by KWOK', function () {
  requireSimulatedContainers(this.scenario);
});
