import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import fc from 'fast-check';
import { ApprovePayload, RejectPayload } from '../src/contracts/approval';
import { TaskSubmission } from '../src/contracts/task-input';
import { parseWorkflowInput, type WorkflowWithInput } from '../src/contracts/workflow-inputs';
import { ValidationError, parse } from '../src/domain';
import {
  anyValue,
  fuzz,
  identifier,
  key,
  nonEmptyText,
  pollutingObject,
  prototypePolluted,
  role,
  text,
  timestamp,
  wrongType,
} from './support/arbitraries';

/** Property-based tests of what workflows and their handlers take from any client (see test/support/arbitraries.ts). */

const int = (min: number, max: number) => fc.integer({ min, max });
const budget = (max: number) => fc.double({ min: 0, max, noNaN: true, noDefaultInfinity: true });

const TASK_FIELDS = {
  task_id: identifier,
  role,
  capability: nonEmptyText(),
  title: nonEmptyText(500),
  description: text(20_000),
  inputs: fc.dictionary(key(), identifier, {
    maxKeys: 3,
    noNullPrototype: true,
  }),
  priority: fc.constantFrom('low', 'normal', 'high', 'critical'),
  feature_id: identifier,
  workspace: nonEmptyText(),
  budget_usd: budget(1e9),
  deadline_secs: int(1, 30 * 86_400),
  require_approval: fc.boolean(),
  max_attempts: int(1, 10),
  assignment_timeout_secs: int(1, 86_400),
  pickup_timeout_secs: int(1, 3_600),
  approval_timeout_secs: int(1, 30 * 86_400),
  assigned_agent: identifier,
};
const TASK_DEFAULTS = {
  description: '',
  inputs: {},
  priority: 'normal',
  deadline_secs: 1_800,
  require_approval: false,
  max_attempts: 3,
  assignment_timeout_secs: 120,
  pickup_timeout_secs: 30,
  approval_timeout_secs: 86_400,
};

const FEATURE_OPTIONS = {
  require_approval: fc.boolean(),
  approval_timeout_secs: int(1, 30 * 86_400),
  developers: int(1, 10),
  max_review_rounds: int(1, 10),
  max_rework_rounds: int(1, 10),
  budget_usd: budget(1_000_000),
  step_deadline_secs: int(1, 7 * 86_400),
};
const FEATURE_DEFAULTS = {
  require_approval: true,
  approval_timeout_secs: 86_400,
  developers: 2,
  max_review_rounds: 2,
  max_rework_rounds: 3,
  budget_usd: 25,
  step_deadline_secs: 1_800,
};

/** A valid input as a client may write it (optional fields left out at random, the pre-0.3 spelling now and then). */
const validTask = fc
  .tuple(fc.record(TASK_FIELDS, { requiredKeys: ['role', 'title'] }), fc.option(fc.boolean(), { nil: undefined }))
  .map(([fields, old]) => (old === undefined ? fields : { ...fields, requiresApproval: old }));
const validFeature = fc
  .tuple(
    fc.record(
      {
        feature_id: identifier,
        title: nonEmptyText(500),
        description: text(20_000),
        options: fc.record(FEATURE_OPTIONS, { requiredKeys: [] }),
      },
      { requiredKeys: ['title'] },
    ),
    fc.option(fc.boolean(), { nil: undefined }),
  )
  .map(([fields, old]) =>
    old === undefined || !fields.options ? fields : { ...fields, options: { ...fields.options, requireApproval: old } },
  );

type Task = typeof validTask extends fc.Arbitrary<infer T> ? T : never;
const MINIMAL_TASK: Task = { role: 'developer', title: 'Add a /health endpoint' };

/** The reference model of normalization: defaults filled in, the old spelling moved to the new unless both are given. */
function normalizedTask(raw: Record<string, unknown>): Record<string, unknown> {
  const { requiresApproval, ...rest } = raw;
  return { ...TASK_DEFAULTS, ...(requiresApproval !== undefined && { require_approval: requiresApproval }), ...rest };
}
function normalizedFeature(raw: Record<string, unknown>): Record<string, unknown> {
  const { requireApproval, ...options } = (raw.options ?? {}) as Record<string, unknown>;
  return {
    description: '',
    ...raw,
    options: {
      ...FEATURE_DEFAULTS,
      ...(requireApproval !== undefined && { require_approval: requireApproval }),
      ...options,
    },
  };
}

/** Runs `parseIt`; a refusal must be InvalidInput or a ValidationError, and name `field` (a path such as `options.developers`). */
function refusedNaming(parseIt: () => unknown, field: string): boolean {
  try {
    parseIt();
    return false;
  } catch (error) {
    const problems =
      error instanceof ApplicationFailure && error.type === 'InvalidInput'
        ? error.message.replace(/^invalid \w+ input: /, '').split('; ')
        : error instanceof ValidationError
          ? error.problems
          : assert.fail(`not a refusal of invalid input: ${String(error)}`);
    // At the start of a problem, or in the words of a rule about several fields.
    const named = problems.some((p) => p.startsWith(`${field}.`) || p.split(/[^\w.]+/).includes(field));
    assert.ok(named, `the error does not name ${field}: ${problems.join('; ')}`);
    return true;
  }
}

/** JavaScript's type of what each field takes, to know which wrong values must be refused. */
const typesOf = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  Object.fromEntries(Object.entries(fields).map(([name, arbitrary]) => [name, typeof fc.sample(arbitrary, 1)[0]]));
const TASK_TYPES = typesOf(TASK_FIELDS);
const mustRefuse = (expected: string | undefined, bad: unknown) =>
  expected !== 'object' && (typeof bad !== expected || (typeof bad === 'number' && !Number.isFinite(bad)));

const workflowInput = (workflow: WorkflowWithInput) => (raw: unknown) => () => parseWorkflowInput(workflow, raw);

/** `raw` parses to `normalized`, which parses to itself, directly and through JSON as Temporal carries it. */
function roundTrips(workflow: WorkflowWithInput, raw: unknown, normalized: unknown): void {
  const parsed = parseWorkflowInput(workflow, raw);
  assert.deepStrictEqual(parsed, normalized);
  assert.deepStrictEqual(parseWorkflowInput(workflow, parsed), parsed);
  assert.deepStrictEqual(parseWorkflowInput(workflow, JSON.parse(JSON.stringify(parsed))), parsed);
}

describe('fuzz: workflow inputs (task, feature, dispatcher update, approvals)', () => {
  it('a valid task input parses to its normalized form, again unchanged, and through JSON as Temporal carries it', () => {
    fc.assert(
      fc.property(validTask, (raw) => {
        roundTrips('taskWorkflow', raw, normalizedTask(raw));
        // zod leaves a `__proto__` key out of a record: refused by name, where it used to vanish without a word.
        const named = { ...raw, inputs: { ...raw.inputs, ...(JSON.parse('{"__proto__": "adr-1"}') as object) } };
        assert.ok(refusedNaming(workflowInput('taskWorkflow')(named), 'inputs.__proto__'));
      }),
      fuzz(300),
    );
  });

  it('a valid feature input parses to its normalized form, again unchanged, and through JSON', () => {
    fc.assert(
      fc.property(validFeature, (raw) => {
        roundTrips('featureWorkflow', raw, normalizedFeature(raw));
      }),
      fuzz(300),
    );
  });

  it('a task field given a wrong value is refused as InvalidInput naming the field', () => {
    const fields = Object.keys(TASK_FIELDS) as (keyof typeof TASK_FIELDS)[];
    fc.assert(
      fc.property(validTask, fc.constantFrom(...fields), wrongType, (raw, field, bad) => {
        const refused = refusedNaming(workflowInput('taskWorkflow')({ ...raw, [field]: bad }), field);
        if (mustRefuse(TASK_TYPES[field], bad) && !refused) assert.fail(`${field}: ${fc.stringify(bad)} was taken`);
        // The value shown is the one given: JSON would say null for NaN and ±Infinity.
        if (typeof bad === 'number' && !Number.isFinite(bad))
          assert.throws(workflowInput('taskWorkflow')({ ...raw, [field]: bad }), (e: Error) => {
            assert.match(e.message, new RegExp(`${field}: .*\\(got ${String(bad)}\\)`));
            return true;
          });
      }),
      // Found by this property: a bigint, a symbol or a function threw a TypeError out of describeIssues.
      fuzz<[Task, keyof typeof TASK_FIELDS, unknown]>(400, {
        examples: [
          [MINIMAL_TASK, 'task_id', 10n],
          [MINIMAL_TASK, 'title', Symbol('hostile')],
          [MINIMAL_TASK, 'role', () => 'a function'],
          [MINIMAL_TASK, 'deadline_secs', NaN],
        ],
      }),
    );
  });

  it('a feature option given a wrong value is refused as InvalidInput naming options.<field>', () => {
    const options = Object.keys(FEATURE_OPTIONS) as (keyof typeof FEATURE_OPTIONS)[];
    const types = typesOf(FEATURE_OPTIONS);
    fc.assert(
      fc.property(validFeature, fc.constantFrom(...options), wrongType, (raw, option, bad) => {
        const input = { ...raw, options: { ...raw.options, [option]: bad } };
        const refused = refusedNaming(workflowInput('featureWorkflow')(input), `options.${option}`);
        if (mustRefuse(types[option], bad) && !refused) assert.fail(`${option}: ${fc.stringify(bad)} was taken`);
      }),
      fuzz(300),
    );
  });

  it('anything at all is parsed or refused as InvalidInput, and pollutes no prototype', () => {
    const hostileObject = fc.dictionary(
      fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'options', 'title', 'role'), fc.string()),
      fc.oneof(anyValue, pollutingObject),
      { maxKeys: 5 },
    );
    fc.assert(
      fc.property(
        fc.constantFrom<WorkflowWithInput>('taskWorkflow', 'featureWorkflow'),
        fc.oneof(anyValue, hostileObject, pollutingObject),
        (workflow, raw) => {
          try {
            const parsed = parseWorkflowInput(workflow, raw);
            assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
          } catch (error) {
            assert.ok(error instanceof ApplicationFailure && error.type === 'InvalidInput', String(error));
            assert.match(error.message, new RegExp(`^invalid ${workflow} input: `));
          }
          assert.equal(prototypePolluted(), false);
        },
      ),
      fuzz(500),
    );
  });

  it("the dispatcher's submitTask update: a valid submission round-trips, a wrong field is refused by name", () => {
    const { assigned_agent: _assigned, ...submissionFields } = TASK_FIELDS;
    const fields = Object.keys(submissionFields) as (keyof typeof submissionFields)[];
    const validSubmission = fc.record(submissionFields, { requiredKeys: ['task_id', 'role', 'title'] });
    fc.assert(
      fc.property(validSubmission, fc.constantFrom(...fields), wrongType, (raw, field, bad) => {
        const parsed = parse(TaskSubmission, raw, 'task');
        assert.deepStrictEqual(parsed, normalizedTask(raw));
        assert.deepStrictEqual(parse(TaskSubmission, parsed, 'task'), parsed);
        const refused = refusedNaming(() => parse(TaskSubmission, { ...raw, [field]: bad }, 'task'), field);
        if (mustRefuse(TASK_TYPES[field], bad) && !refused) assert.fail(`${field}: ${fc.stringify(bad)} was taken`);
      }),
      fuzz(300),
    );
  });

  it('approvals: a valid approve or reject round-trips; a wrong field, or a partial signature, is refused by name', () => {
    const signature = fc.option(
      fc.record({ signer: nonEmptyText(200), at: timestamp, seal: fc.stringMatching(/^[A-Za-z0-9+/=]{1,200}$/) }),
      { nil: undefined },
    );
    const approve = fc
      .tuple(fc.record({ by: nonEmptyText(200), comment: text(5_000) }, { requiredKeys: ['by'] }), signature)
      .map(([payload, signed]) => ({ ...payload, ...signed }));
    const reject = fc
      .tuple(fc.record({ by: nonEmptyText(200), reason: nonEmptyText(5_000) }), signature)
      .map(([payload, signed]) => ({ ...payload, ...signed }));
    fc.assert(
      fc.property(approve, reject, wrongType, (a, r, bad) => {
        assert.deepStrictEqual(parse(ApprovePayload, a, 'approval'), { comment: '', ...a });
        assert.deepStrictEqual(parse(RejectPayload, r, 'rejection'), r);
        for (const field of ['by', 'comment', 'signer', 'at', 'seal'] as const) {
          const refused = refusedNaming(() => parse(ApprovePayload, { ...a, [field]: bad }, 'approval'), field);
          if (field === 'by' && typeof bad !== 'string') assert.ok(refused);
        }
        assert.ok(
          refusedNaming(() => parse(RejectPayload, { ...r, reason: bad }, 'rejection'), 'reason') ||
            typeof bad === 'string',
        );
        // All three or none: one missing is named where the rule is (seal).
        const { seal: _seal, ...unsealed } = { ...r, signer: 'operator', at: new Date(0).toISOString(), seal: 'x' };
        assert.ok(refusedNaming(() => parse(RejectPayload, unsealed, 'rejection'), 'seal'));
      }),
      fuzz(200),
    );
  });
});
