import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PERSON_NAME } from '../src/contracts/approval';
import { MAX_REPLICAS } from '../src/contracts/replicas';
import { TaskStatus } from '../src/domain';
import { fuzz, hostileString, isSemVer, semver } from './support/arbitraries';
import { vapora } from './support/cli';
import { tempDir } from './support/servers';

/**
 * Property-based tests of the CLI's arguments, each a real `vapora` process:
 * a value an option does not take ends the command before it reaches any
 * server, with exit code 1 and an error naming the option, never a stack trace.
 */

// Nothing answers here: a command that got past its checks would fail otherwise, and slowly.
const env = {
  VAPORA_STATE_DIR: tempDir('fuzz-cli'),
  TEMPORAL_ADDRESS: '127.0.0.1:1',
  VAPORA_API_URL: 'http://127.0.0.1:1',
  NATS_URL: 'nats://127.0.0.1:1',
};

const whole = (v: string, min: number, max = Infinity) => /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max;
const decimal = (v: string, min: number, max: number, int = false) =>
  /^\d+(\.\d+)?$/.test(v) && Number(v) >= min && Number(v) <= max && (!int || Number.isInteger(Number(v)));

/** Each option, how to pass it, and the reference model of the values it takes. */
const OPTIONS = [
  {
    option: '--count',
    args: (v: string) => ['agent', 'install', 'x', `--count=${v}`],
    takes: (v: string) => whole(v, 1, MAX_REPLICAS),
  },
  {
    option: '--max-unavailable',
    args: (v: string) => ['agent', 'rollback', 'x', `--max-unavailable=${v}`],
    takes: (v: string) => whole(v, 0, MAX_REPLICAS),
  },
  {
    option: '--to',
    args: (v: string) => ['agent', 'upgrade', 'x', `--to=${v}`],
    takes: isSemVer,
  },
  {
    option: '--developers',
    args: (v: string) => ['feature', 'start', 'a title', `--developers=${v}`],
    takes: (v: string) => decimal(v, 1, 10, true),
  },
  {
    option: '--budget',
    args: (v: string) => ['feature', 'start', 'a title', `--budget=${v}`],
    takes: (v: string) => decimal(v, 0, 1e6),
  },
  {
    option: '--approval-timeout',
    args: (v: string) => ['feature', 'start', 'a title', `--approval-timeout=${v}`],
    takes: (v: string) => decimal(v, 1, 30 * 86_400, true),
  },
  {
    option: '--id',
    args: (v: string) => ['feature', 'start', 'a title', `--id=${v}`],
    takes: (v: string) => v === '' || /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/.test(v.replace(/^feature-/, '')),
  },
  {
    option: '--limit',
    args: (v: string) => ['feature', 'list', `--limit=${v}`],
    takes: (v: string) => decimal(v, 1, Infinity, true),
  },
  {
    option: '--status',
    args: (v: string) => ['task', 'list', `--status=${v}`],
    takes: (v: string) => (TaskStatus.options as string[]).includes(v),
  },
  {
    option: '--limit',
    args: (v: string) => ['context', 'search', 'cache', `--limit=${v}`],
    takes: (v: string) => Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 50,
  },
  {
    option: '--person',
    args: (v: string) => ['token', 'issue', `--person=${v}`],
    takes: (v: string) => PERSON_NAME.test(v) && v !== 'operator',
  },
];

/** Values people mistype, and hostile ones; a process gets a lone surrogate as U+FFFD, and no NUL at all. */
const value = fc
  .oneof(
    hostileString.filter((v) => v.length < 100_000),
    semver.map((v) => `v${v}`),
    fc.constantFrom(
      '0',
      '-1',
      '1.5',
      '1e3',
      '11',
      '1001',
      '99999999999999999999999',
      ' 5',
      '5 ',
      '0x10',
      'Infinity',
      'NaN',
      '01.2.3',
      'operator',
    ),
    fc.stringMatching(/^-?\d{1,25}(\.\d{0,3})?$/),
  )
  .map((v) => v.replace(/\p{Cs}/gu, '\ufffd').replaceAll('\u0000', ''));

describe('fuzz: CLI arguments (vapora processes)', () => {
  it('a value an option does not take exits 1 naming the option, before any server, without a stack trace', async () => {
    const cases = fc
      .tuple(fc.nat(OPTIONS.length - 1), value)
      .filter(([i, v]) => !OPTIONS[i]!.takes(v))
      .map(([i, v]) => ({ option: OPTIONS[i]!.option, args: OPTIONS[i]!.args(v) }));
    await fc.assert(
      // A few processes at once: each takes a second or two to start.
      fc.asyncProperty(fc.array(cases, { minLength: 4, maxLength: 4 }), async (batch) => {
        const results = await Promise.all(batch.map(({ args }) => vapora(args, env)));
        batch.forEach(({ option, args }, i) => {
          const { code, stdout, stderr } = results[i]!;
          const said = `vapora ${args.join(' ')} exited ${code}:\n${stderr}`;
          assert.equal(code, 1, said);
          assert.equal(stdout, '', said);
          assert.match(stderr, new RegExp(`^error: invalid ${option}:\\n(  - ${option}: .*\\n)+$`), said);
          assert.doesNotMatch(stderr, /^\s+at /m, said);
        });
      }),
      // Found by this property: --limit 0 and a bad --id reached Temporal; out-of-range numbers named options.<field>.
      fuzz<[{ option: string; args: string[] }[]]>(2, {
        share: 1 / 100,
        examples: [
          [
            [
              { option: '--limit', args: ['feature', 'list', '--limit=0'] },
              { option: '--id', args: ['feature', 'start', 'a title', '--id=a b'] },
              { option: '--developers', args: ['feature', 'start', 'a title', '--developers=11'] },
              { option: '--budget', args: ['feature', 'start', 'a title', '--budget=99999999999999999999'] },
            ],
          ],
        ],
      }),
    );
  });
});
