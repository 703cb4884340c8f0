/** The per-scenario World: the run's cluster (from world parameters) and the scenario's state. */
import { World, setWorldConstructor, type IWorldOptions } from '@cucumber/cucumber';
import { Kube } from '../src/kube/client.js';
import type { Scenario } from '../src/scenario/scenario.js';
import type { RunParameters } from '../src/run/parameters.js';

export class KubeproofWorld extends World<RunParameters> {
  private client: Kube | undefined;
  private current: Scenario | undefined;
  /** Where the running step is written (set by a BeforeStep hook). */
  step: { file: string; line: number; docStringLine?: number } = { file: '', line: 0 };

  constructor(options: IWorldOptions<RunParameters>) {
    super(options);
  }

  /** Made on first use: a dry run (step matching) constructs worlds without a cluster. */
  get kube(): Kube {
    this.client ??= Kube.fromKubeconfig(this.parameters.cluster.kubeconfigPath, this.parameters.cluster.context);
    return this.client;
  }

  get scenario(): Scenario {
    if (!this.current) throw new Error('no scenario is running (the Before hook did not run)');
    return this.current;
  }

  set scenario(s: Scenario) {
    this.current = s;
  }

  get hasScenario(): boolean {
    return this.current !== undefined;
  }
}

setWorldConstructor(KubeproofWorld);

/** file:line of the running step's docstring (or of the step itself). */
export function docStringWhere(world: KubeproofWorld): { file: string; line: number } {
  return { file: world.step.file, line: world.step.docStringLine ?? world.step.line };
}
