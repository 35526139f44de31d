/**
 * `npm run chaos -- --features N --kill-every S --seed X [--soak 30m] [--timeout 1200] [--json]`:
 * N features on a real stack of their own while processes are kill -9'd,
 * beside the same run without kills; exits non-zero when anything is lost,
 * stuck, duplicated or left behind (see test/chaos/chaos-run.ts).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parse } from '../../src/domain';
import { chaosRun, failures, type RunReport } from './chaos-run';

const HELP = `Usage: npm run chaos -- [options]

Runs features on a real stack (vapora up: Temporal dev server, nats-server,
the control plane, the default team) while kill -9'ing a random process
(the control plane, an agent, nats-server, the Temporal dev server) at random
intervals, then checks that every feature completed and nothing was done twice
or left running. The same features first run without kills, for the wall-time ratio.

Options:
  --features <n>      features at once (default 10)
  --kill-every <s>    mean seconds between kills (default 5)
  --seed <n>          the random choices (kills, approvals); printed, so a run can be repeated (default: random)
  --soak <duration>   keep the features in flight this long (e.g. 30m, 90s), printing each process's
                      memory and open files every minute; fails if one keeps growing
  --timeout <s>       how long the features may take to end (default 300 + 30 per feature; with kills,
                      8 times the run without them and 2 minutes more)
  --no-baseline       skip the run without kills (no ratio)
  --json              the report as one JSON object on stdout
  --help              this text`;

const Options = z.object({
  features: z.coerce.number().int().min(1).max(1000).default(10),
  'kill-every': z.coerce.number().min(0.5).max(3600).default(5),
  seed: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .default(() => Math.floor(Math.random() * 2 ** 31)),
  soak: z
    .string()
    .regex(/^\d+(s|m|h)$/, 'must be a duration like 90s, 30m or 2h')
    .transform((d) => Number(d.slice(0, -1)) * { s: 1_000, m: 60_000, h: 3_600_000 }[d.slice(-1) as 's' | 'm' | 'h'])
    .optional(),
  timeout: z.coerce.number().int().min(10).optional(),
  'no-baseline': z.boolean().default(false),
  json: z.boolean().default(false),
  help: z.boolean().default(false),
});

const text = { type: 'string' } as const;
const flag = { type: 'boolean' } as const;
/** The options, or a clear word on what is wrong with them (no stack trace: a person typed them). */
function options() {
  try {
    const { values } = parseArgs({
      options: {
        features: text,
        'kill-every': text,
        seed: text,
        soak: text,
        timeout: text,
        'no-baseline': flag,
        json: flag,
        help: flag,
      },
    });
    if (values.help) {
      console.log(HELP);
      process.exit(0);
    }
    return parse(Options, values, 'chaos options');
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n(npm run chaos -- --help)\n`);
    process.exit(1);
  }
}
const o = options();
const say = (line: string) => process.stderr.write(`[chaos] ${line}\n`);
const timeoutSecs = o.timeout ?? 300 + 30 * o.features;
/** With kills a run is slower by several times: its wait is measured from the run without them. */
const chaosTimeoutSecs = (baselineMs?: number) =>
  o.timeout ?? (baselineMs ? Math.max(timeoutSecs, Math.ceil((8 * baselineMs) / 1000) + 120) : 4 * timeoutSecs);
say(
  `seed ${o.seed}: ${o.features} features, a kill every ~${o['kill-every']} s${o.soak ? `, soak ${o.soak / 60_000} min` : ''}`,
);

const baseline = o['no-baseline']
  ? undefined
  : await chaosRun({ features: o.features, seed: o.seed, timeoutSecs, soakMs: o.soak }, (l) => say(`baseline: ${l}`));
const chaos = await chaosRun(
  {
    features: o.features,
    seed: o.seed,
    timeoutSecs: chaosTimeoutSecs(baseline?.wallMs),
    soakMs: o.soak,
    killEverySecs: o['kill-every'],
  },
  (l) => say(`chaos: ${l}`),
);
const problems = [...(baseline ? failures(baseline).map((f) => `baseline: ${f}`) : []), ...failures(chaos)];
const ratio = baseline ? chaos.wallMs / baseline.wallMs : undefined;

if (o.json) {
  console.log(JSON.stringify({ seed: o.seed, ok: problems.length === 0, problems, ratio, baseline, chaos }));
} else {
  const row = (name: string, r: RunReport | undefined, value: (r: RunReport) => string | number) =>
    `  ${name.padEnd(30)} ${String(r ? value(r) : '-').padStart(14)} ${String(value(chaos)).padStart(14)}`;
  const count = (xs: unknown[] | Record<string, number>) =>
    Array.isArray(xs) ? xs.length : Object.values(xs).reduce((n, x) => n + x, 0);
  console.log(
    [
      `chaos run, seed ${o.seed}: ${o.features} features, a kill every ~${o['kill-every']} s`,
      `  ${''.padEnd(30)} ${'without kills'.padStart(14)} ${'with kills'.padStart(14)}`,
      row('features completed / started', baseline, (r) => `${r.completed}/${r.started}`),
      row('features stuck', baseline, (r) => r.stuck.length),
      row('duplicate events', baseline, (r) => count(r.duplicateEvents)),
      row('steps completed more than once', baseline, (r) => r.stepsCompletedTwice.length),
      row('decisions applied twice', baseline, (r) => r.decisionsAppliedTwice.length),
      row('approvals applied twice', baseline, (r) => r.approvalsAppliedTwice.length),
      row('agents not Active at the end', baseline, (r) => r.agentsNotActive.length),
      row('processes left behind', baseline, (r) => r.leftBehind.length),
      row('events on the task stream', baseline, (r) => r.events),
      row('wall time (s)', baseline, (r) => (r.wallMs / 1000).toFixed(1)),
      ratio ? `  wall time with kills / without: ${ratio.toFixed(2)}×` : '',
      `  kills: ${
        Object.entries(chaos.killed)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || 'none'
      }`,
      `  approvals sent: ${chaos.approvalsSent.onTime} on time, ${chaos.approvalsSent.duplicate} duplicated, ${chaos.approvalsSent.late} late, ${chaos.approvalsSent.again} again (a gate still open a minute after its answer)`,
      ...(chaos.resources ?? []).map(
        (p) =>
          `  ${p.name}: ${p.first.rssMiB} → ${p.last.rssMiB} MiB, ${p.first.openFiles} → ${p.last.openFiles} files${p.growing ? '  GROWING' : ''}`,
      ),
      problems.length
        ? `FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}`
        : 'OK: nothing lost, stuck, duplicated or left behind',
    ]
      .filter(Boolean)
      .join('\n'),
  );
}
process.exit(problems.length ? 1 : 0);
