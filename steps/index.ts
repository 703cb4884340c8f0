// The support code cucumber loads: parameter types first, then the world, hooks and steps.
import './parameters.js';
import './world.js';
import './hooks.js';
import './cluster.steps.js';
import './workload.steps.js';
import './expect.steps.js';
import './faults.steps.js';
import './node-faults.steps.js';
import './app-faults.steps.js';
import './real.steps.js';
import './pod.steps.js';
import './lower-bound.steps.js';
import './window.steps.js';
import './job.steps.js';
import './container.steps.js';
import './rollout.steps.js';
import './eviction.steps.js';
export { vocabulary } from './vocabulary.js';
