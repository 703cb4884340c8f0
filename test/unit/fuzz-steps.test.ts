/**
 * Bad step arguments, generated (fast-check): every parameter type of steps/parameters.ts
 * turns any text its regexp accepts into a value a step can use, or refuses it as bad input
 * (exit 2) — never a plain exception, never a value that makes a check vacuous (a wait that
 * overflows the timer, a percentage over 100). Every example line with one argument replaced
 * by generated text matches at most one step; when it matches none, the runner's explanation
 * comes back quickly; when it matches one, its arguments convert or are refused as bad input,
 * and what the step needs of earlier steps is decided without throwing.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { supportCodeLibraryBuilder } from '@cucumber/cucumber';
import { projectRoot } from '../../src/project.js';
import { BadInputError } from '../../src/errors.js';
import { explainUndefined } from '../../src/run/suggest.js';
import { unmetNeeds } from '../../src/run/preconditions.js';
import { MAX_WAIT_MS } from '../../src/duration.js';
import type { StepDoc } from '../../src/cli/vocabulary-loader.js';

interface Arg {
  group: { start?: number; end?: number; value?: string };
  getValue(thisObj: unknown): unknown;
}
interface StepDefinition {
  pattern: string | RegExp;
  expression: { source: string; match(text: string): Arg[] | null };
  code: unknown;
  unwrappedCode?: unknown;
}
interface ParameterType {
  name: string;
  regexpStrings: string[];
  builtin?: boolean;
  transform(thisObj: unknown, groups: Array<string | null>): unknown;
}

let definitions: StepDefinition[];
let parameterTypes: ParameterType[];
let vocabulary: StepDoc[];

const RUNS = Number(process.env.KUBEPROOF_FUZZ_RUNS ?? 300);

/** Call `fn`; a BadInputError is an answer (exit 2), anything else thrown fails the property. */
function refusedOrValue<T>(fn: () => T): { value?: T; refused?: BadInputError } {
  try {
    return { value: fn() };
  } catch (err) {
    if (err instanceof BadInputError) return { refused: err };
    throw new Error(`not a BadInputError (the user would see a stack trace, exit 1): ${(err as Error)?.stack ?? String(err)}`);
  }
}

/** What each of kubeproof's own parameter types may hand a step (anything else must be refused). */
const SANE: Record<string, (v: unknown) => boolean> = {
  duration: (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_WAIT_MS,
  amount: (v) => Number.isSafeInteger((v as { n: number }).n) && (v as { n: number }).n >= 0,
  percent: (v) => typeof v === 'number' && v >= 0 && v <= 100,
  workload: (v) => typeof v === 'string' && v.length > 0,
  kind: (v) => typeof v === 'string' && v.length > 0,
  howMany: (v) => {
    const h = v as { count?: number; percent?: number };
    return h.count !== undefined ? Number.isSafeInteger(h.count) && h.count >= 1 : typeof h.percent === 'number' && h.percent > 0 && h.percent <= 100;
  },
  podState: (v) => typeof v === 'string',
  names: (v) => Array.isArray(v) && v.every((n) => typeof n === 'string' && n.length > 0),
  nodeCondition: (v) => v === 'True' || v === 'NotTrue' || v === 'Unknown',
};

/** Text a person might type where an argument goes: near misses of the real forms, and noise. */
const junk = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.stringMatching(/^-?\d{1,25}(\.\d{0,4})?\s?(ms|s|m|h|d|parsecs|%|pods?|of the pods)?$/),
  fc.constantFrom('', ' ', '"', '""', '"web', "'web'", 'NaN', 'Infinity', '-1', '1e309', '0', '00', '1.5.5', 'soon', 'all', 'no', 'none', '🙂', '\u0000', '{string}', '10 min'),
);

describe('step arguments, generated', () => {
  before(async () => {
    supportCodeLibraryBuilder.reset(projectRoot, () => randomUUID());
    const mod = (await import(pathToFileURL(join(projectRoot, 'dist/steps/index.js')).href)) as { vocabulary: StepDoc[] };
    vocabulary = mod.vocabulary;
    const lib = supportCodeLibraryBuilder.finalize() as unknown as { stepDefinitions: StepDefinition[]; parameterTypeRegistry: { parameterTypes: Iterable<ParameterType> } };
    definitions = lib.stepDefinitions;
    parameterTypes = [...lib.parameterTypeRegistry.parameterTypes].filter((p) => !p.builtin);
  });

  it("each of kubeproof's parameter types converts what its regexp accepts, or refuses it as bad input", () => {
    assert.ok(Object.keys(SANE).every((n) => parameterTypes.some((p) => p.name === n)), 'a parameter type this test knows is gone');
    for (const p of parameterTypes) {
      const matching = fc.oneof(...p.regexpStrings.map((r) => fc.stringMatching(new RegExp(`^(?:${r})$`))));
      // Its numbers, also as long as a typo makes them (the regexps take any number of digits).
      const accepted = fc.tuple(matching, fc.integer({ min: 1, max: 40 }), fc.boolean()).map(([t, digits, longer]) => (longer ? t.replace(/\d+/, '9'.repeat(digits)) : t));
      fc.assert(
        fc.property(accepted, (text) => {
          const r = refusedOrValue(() => p.transform(null, [text]));
          if (r.refused) return true;
          // A type added since has no rule here yet: it must still convert or refuse, never throw.
          assert.ok(SANE[p.name]?.(r.value) ?? true, `{${p.name}} "${text}" became ${JSON.stringify(r.value)}`);
          return true;
        }),
        { numRuns: RUNS },
      );
    }
  });

  it('a step line with one argument replaced by generated text matches at most one step, and is explained or converted', () => {
    const expressions = definitions.map((d) => (typeof d.pattern === 'string' ? d.pattern : d.pattern.source));
    const examples = vocabulary.map((v) => v.example.replace(/^(Given|When|Then) /, ''));
    fc.assert(
      fc.property(fc.constantFrom(...examples), fc.nat(), junk, (example, which, replacement) => {
        const own = definitions.find((d) => d.expression.match(example));
        assert.ok(own, `the example "${example}" matches no step`);
        const args = own.expression.match(example)!.filter((a) => a.group.start !== undefined);
        let text = example;
        if (args.length) {
          const g = args[which % args.length]!.group;
          text = `${example.slice(0, g.start)}${replacement}${example.slice(g.end)}`;
        } else text = `${example} ${replacement}`;
        const matching = definitions.filter((d) => d.expression.match(text));
        assert.ok(matching.length <= 1, `"${text}" matches ${matching.length} steps (ambiguous): ${matching.map((d) => d.expression.source).join(' | ')}`);
        if (matching.length === 0) {
          // CPU time, not wall time: a backtracking regexp costs CPU, a loaded machine only wall time.
          const started = process.cpuUsage();
          const why = explainUndefined(text, expressions);
          const spent = process.cpuUsage(started);
          const ms = (spent.user + spent.system) / 1000;
          assert.ok(ms < 500, `explaining "${text}" took ${ms} ms of CPU`);
          assert.match(why, /is not a \{|no step matches/);
          return true;
        }
        const d = matching[0]!;
        const converted = refusedOrValue(() => d.expression.match(text)!.map((a) => a.getValue(null)));
        if (converted.refused) return true;
        refusedOrValue(() => unmetNeeds([[{ where: 'x.feature:3', text, code: d.unwrappedCode ?? d.code, args: converted.value! }]]));
        return true;
      }),
      { numRuns: RUNS * 3 },
    );
  });
});
