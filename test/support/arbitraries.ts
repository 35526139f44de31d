import fc from 'fast-check';
import { AGENT_ROLES } from '../../src/domain';

/**
 * Generated inputs for the fuzz tests (test/fuzz-*.test.ts): valid ones, and
 * the hostile values every boundary must refuse by name without crashing.
 */

const LONG_RUNS = Number(process.env.VAPORA_FUZZ_RUNS) || undefined;
const SEED = process.env.VAPORA_FUZZ_SEED ? Number(process.env.VAPORA_FUZZ_SEED) : undefined;

/**
 * fast-check's parameters: `runs` for `npm test`, VAPORA_FUZZ_RUNS for a longer
 * run (`share` of it where a run is costly: a tenth where it writes to the
 * registry, a hundredth where it starts processes), and VAPORA_FUZZ_SEED to
 * replay the seed a failure printed. Otherwise the seed is random, so every CI
 * run explores further. `examples` run first, every time: the inputs that found a bug.
 */
export function fuzz<T>(runs: number, { share = 1, examples = [] as T[] } = {}): fc.Parameters<T> {
  const numRuns = LONG_RUNS === undefined ? runs : Math.max(runs, Math.ceil(LONG_RUNS * share));
  return { numRuns, examples, includeErrorInReport: true, ...(SEED !== undefined && { seed: SEED }) };
}

// ---- valid values ---------------------------------------------------------

/** Identifier (src/domain/timestamp.ts): a letter or digit, then letters, digits, "_" or "-", in tokens joined by ".". */
export const identifier = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,20}(\.[A-Za-z0-9_-]{1,8}){0,2}$/);
/** An Identifier that is also one NATS subject token. */
export const token = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,30}$/);
export const role = fc.constantFrom(...AGENT_ROLES);
/** Any text people write, within `max` UTF-16 units (what zod's max counts). */
export const text = (max: number, min = 0) =>
  fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, 60) }).filter((s) => s.length <= max);
/** A key as people name things: fast-check's strings include `__proto__`, which zod leaves out of records (refused by name). */
export const key = (max = 40) => text(max, 1).filter((s) => s !== '__proto__');
export const nonEmptyText = (max = 200) => text(max, 1);
/** A semantic version as semver.org writes it, with prerelease and build parts now and then. */
export const semver = fc
  .tuple(
    fc.nat(30),
    fc.nat(30),
    fc.nat(30),
    fc.option(
      fc.array(fc.oneof(fc.nat(20).map(String), fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/)), {
        minLength: 1,
        maxLength: 3,
      }),
    ),
    fc.option(fc.stringMatching(/^[0-9a-z]{1,6}$/)),
  )
  .map(
    ([major, minor, patch, pre, build]) =>
      `${major}.${minor}.${patch}${pre ? `-${pre.join('.')}` : ''}${build ? `+${build}` : ''}`,
  );
/** A timestamp as the schemas take it (ISO-8601 with an offset). */
export const timestamp = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
/** JSON the registry keeps as given: no `__proto__` key (it would lose it), whole numbers within ±2^53. */
const keeps = (v: unknown): boolean =>
  typeof v === 'object' && v !== null
    ? Object.entries(v).every(([k, item]) => k !== '__proto__' && keeps(item))
    : !(typeof v === 'number' && Number.isInteger(v) && Math.abs(v) > 2 ** 53);
/** JSON data as agents share it, within a few levels (src/domain/storable.ts refuses the rest), as the wire carries it (-0 as 0). */
export const jsonData = fc
  .jsonValue({ maxDepth: 3 })
  .filter(keeps)
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown);

// ---- hostile values -------------------------------------------------------

/** Strings that break careless code: empty, control characters, lone surrogates, injection-looking, huge. */
export const hostileString = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\n',
    '\ud800',
    'a\udfffb',
    '\u202e\u0000',
    '__proto__',
    'constructor',
    'prototype',
    '../../etc/passwd',
    '${workspace}',
    "'; DROP TABLE agent; --",
    'NaN',
    '-1',
    '1e309',
    '0x10',
    'vapora.>',
    '*',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer({ min: 20_000, max: 200_000 }).map((n) => 'x'.repeat(n)),
);
/** Numbers at and past every edge. */
export const hostileNumber = fc.oneof(
  fc.constantFrom(
    NaN,
    Infinity,
    -Infinity,
    -0,
    -1,
    0.5,
    1e21,
    Number.MAX_SAFE_INTEGER + 2,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    -Number.MAX_VALUE,
  ),
  fc.double(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
);
/** Arrays or objects nested deeper than any record is (printed in short when a property fails). */
export const deeplyNested = fc.tuple(fc.integer({ min: 64, max: 2_000 }), fc.boolean()).map(([depth, arrays]) => {
  let value: object = ['bottom'];
  for (let i = 1; i < depth; i++) value = arrays ? [value] : { a: value };
  const summary = `<${depth} levels of ${arrays ? 'arrays' : 'objects'}>`;
  return Object.defineProperty(value, fc.toStringMethod, { value: () => summary, enumerable: false });
});
/** Objects whose keys would pollute a prototype if copied carelessly (own keys, as JSON.parse makes them). */
export const pollutingObject = fc
  .constantFrom(
    '{"__proto__": {"polluted": "yes"}}',
    '{"constructor": {"prototype": {"polluted": "yes"}}}',
    '{"a": {"__proto__": {"polluted": "yes"}}, "prototype": 1}',
    '{"__proto__": null}',
  )
  .map((json) => JSON.parse(json) as Record<string, unknown>);
/** A value of any kind a field may wrongly get: what JSON cannot carry too. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  hostileNumber,
  hostileString,
  fc.bigInt(),
  fc.constant(Symbol('hostile')),
  fc.constant(() => 'a function'),
  fc.date(),
  fc.constant(new Map([['a', 1]])),
  fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
  deeplyNested,
  pollutingObject,
);
/** Anything at all, wrong types and hostile shapes included. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  wrongType,
  fc.anything({ withBigInt: true, withBoxedValues: true, withNullPrototype: true, withSparseArray: true }),
);

// ---- reference models -----------------------------------------------------

const SEMVER_ORG =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
/** semver.org's grammar, within the semver package's limits: 256 characters, numbers JavaScript holds exactly. */
export function isSemVer(v: string): boolean {
  const match = SEMVER_ORG.exec(v);
  return match !== null && v.length <= 256 && match.slice(1, 4).every((n) => Number(n) <= Number.MAX_SAFE_INTEGER);
}
/** A value as a client would send it: a bigint as the number it is, what JSON cannot write left out. */
export const asJson = (value: unknown) =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) ?? 'null';

/** Whether Object.prototype was given a property (by `polluted: "yes"` of pollutingObject). */
export const prototypePolluted = () => 'polluted' in {} || 'polluted' in [];
