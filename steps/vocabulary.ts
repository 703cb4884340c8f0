/**
 * Every step is registered through here with one example, so `kubeproof steps` can print
 * the vocabulary and a test can check that each example is a line of a shipped feature
 * (which CI runs), so the examples cannot rot.
 */
import { Given, When, Then, setDefaultTimeout } from '@cucumber/cucumber';
import type { KubeproofWorld } from './world.js';
import { NotApplicable } from '../src/not-applicable.js';
import { unlessPlanning } from '../src/scenario/plan.js';
import { KubeproofError } from '../src/errors.js';
import { STEP_NEEDS, type StepNeeds, type Fact } from '../src/run/preconditions.js';
import { fact } from './needs.js';

// Steps carry their own deadlines ("within 30 s"); cucumber's 5 s default would cut them short.
setDefaultTimeout(15 * 60 * 1000);

export interface StepDoc {
  keyword: 'Given' | 'When' | 'Then';
  expression: string;
  example: string;
  group: string;
  /** Older wordings of the same step, still matched (not shown as the step's sentence). */
  also?: string[];
}

/** What a step needs of the steps before it and gives the ones after (checked when steps are matched), and its older wordings. */
export type StepOptions = StepNeeds & { also?: string[] };

export const vocabulary: StepDoc[] = [];

type StepFn = (this: KubeproofWorld, ...args: any[]) => unknown;

function define(keyword: StepDoc['keyword'], group: string) {
  const register = keyword === 'Given' ? Given : keyword === 'When' ? When : Then;
  return (expression: string, example: string, fn: StepFn, opts: StepOptions = {}) => {
    vocabulary.push({ keyword, expression, example, group, ...(opts.also?.length ? { also: opts.also } : {}) });
    // Keep the declared arity: cucumber counts a function's parameters to pass docstrings/tables.
    const wrapped = {
      [fn.name || 'step']: async function (this: KubeproofWorld, ...args: unknown[]) {
        // Plan mode walks the scenario without injecting: faults print their plan, checks are not run
        // (returning normally, so the steps after a check are still walked and their faults planned).
        const run = async () => fn.apply(this, args);
        try {
          return await (keyword === 'Then' ? unlessPlanning(this.scenario, () => [], run) : run());
        } catch (err) {
          if (err instanceof NotApplicable) {
            this.scenario.notApplicable = err.message;
            return 'skipped';
          }
          // Reports show the message: put the file:line and hint of kubeproof's own errors into it.
          if (err instanceof KubeproofError && (err.where || err.hint)) {
            const plain = err.message;
            err.message = err.describe();
            if (err.stack) err.stack = err.stack.replace(plain, err.message);
          }
          throw err;
        }
      },
    }[fn.name || 'step']!;
    Object.defineProperty(wrapped, 'length', { value: fn.length });
    const needs: StepNeeds = { provides: withImplied(keyword, expression, opts.provides), requires: opts.requires, applies: opts.applies, hint: opts.hint };
    Object.defineProperty(wrapped, STEP_NEEDS, { value: needs });
    register(expression, wrapped);
    // An older wording still runs the step, and says how it is written now.
    for (const older of opts.also ?? []) {
      const alias = { [wrapped.name]: function (this: KubeproofWorld, ...args: unknown[]) { return wrapped.apply(this, args); } }[wrapped.name]!;
      Object.defineProperty(alias, 'length', { value: fn.length });
      Object.defineProperty(alias, STEP_NEEDS, { value: { ...needs, hint: (...args: unknown[]) => `an older wording, still matched: say "${keyword} ${sentence(expression, args)}"` } });
      register(older, alias);
    }
  };
}

/**
 * What a step gives the steps after it by what kind of step it is: every When step changes
 * something (a fault, a kill, a scale, an image change, a patch, a load) and so opens the window
 * of "at no moment" claims; every "within D …" step is a timed expectation a lower bound can follow.
 */
function withImplied(keyword: StepDoc['keyword'], expression: string, provides: StepNeeds['provides']): StepNeeds['provides'] {
  const implied: Fact[] = [...(keyword === 'When' ? [fact.changed] : []), ...(/\bwithin \{duration\}/.test(expression) ? [fact.metWithin] : [])];
  if (!implied.length) return provides;
  return (...args: unknown[]) => [...(provides?.(...args) ?? []), ...implied];
}

/** The expression with the step's arguments in place of its parameters, for a hint. */
function sentence(expression: string, args: unknown[]): string {
  let i = 0;
  const say = (v: unknown): string => {
    if (Array.isArray(v)) return v.map(say).join(', ');
    const amount = v as { op?: string; n?: number } | undefined;
    if (amount && typeof amount === 'object' && amount.op !== undefined) return `${amount.op === 'exactly' ? '' : `${amount.op} `}${amount.n}`;
    return typeof v === 'string' ? `"${v}"` : String(v);
  };
  return expression.replace(/\{[^}]*\}/g, (p) => (p === '{names}' && Array.isArray(args[i]) ? (args[i++] as string[]).join(', ') : i < args.length ? say(args[i++]) : p));
}

export const step = (group: string) => ({
  given: define('Given', group),
  when: define('When', group),
  then: define('Then', group),
});
