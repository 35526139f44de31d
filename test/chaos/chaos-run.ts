import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@temporalio/client';
import { EventBus } from '../../src/bus/event-bus';
import { startFeature } from '../../src/client/feature-client';
import { featureStatus } from '../../src/client/feature-status';
import { RegistryClient } from '../../src/client/registry-client';
import { loadConfig } from '../../src/config';
import { FeatureInput } from '../../src/contracts/feature-input';
import { featureWorkflowId } from '../../src/contracts/workflow-ids';
import { parse, statusLabel } from '../../src/domain';
import { temporalConnection } from '../../src/temporal/connection';
import { dataConverter } from '../../src/temporal/payload-codec';
import { exited, vaporaUntilJson } from '../support/cli';
import { stackEnv, tempDir } from '../support/servers';
import { Killer } from './killer';
import { ledgerOf, type Ledger } from './ledger';
import { SeededRandom } from './seeded-random';
import { Person } from './person';
import { retried } from './retried';
import { processesOf, resourcesOf, stackProcesses } from './stack-processes';

export interface RunOptions {
  /** Features run at once (in a soak, kept in flight). */
  features: number;
  /** Mean seconds between kills; none without it. */
  killEverySecs?: number;
  seed: number;
  /** How long the features may take to end once started. */
  timeoutSecs: number;
  /** Keep `features` in flight this long, sampling each process's memory and open files every minute. */
  soakMs?: number;
}

export interface RunReport extends Ledger {
  kills: boolean;
  wallMs: number;
  started: number;
  completed: number;
  stuck: { id: string; status: string; phase: string }[];
  agentsNotActive: { id: string; status: string }[];
  leftBehind: { pid: number; command: string }[];
  killed: Record<string, number>;
  approvalsSent: { onTime: number; duplicate: number; late: number; again: number };
  /** Per process, its first and last samples in a soak, and whether it kept growing. */
  resources?: { name: string; first: Sample; last: Sample; growing: boolean }[];
}
type Sample = { rssMiB: number; openFiles: number };

/** Whether a run lost, stuck, duplicated or left anything behind. */
export const failures = (r: RunReport): string[] =>
  [
    r.completed < r.started && `${r.started - r.completed} of ${r.started} features did not complete`,
    r.stuck.length > 0 && `stuck: ${r.stuck.map((s) => `${s.id} (${s.status}, ${s.phase})`).join(', ')}`,
    Object.keys(r.duplicateEvents).length > 0 && `duplicate events: ${JSON.stringify(r.duplicateEvents)}`,
    r.stepsCompletedTwice.length > 0 && `steps completed more than once: ${r.stepsCompletedTwice.join(', ')}`,
    r.decisionsAppliedTwice.length > 0 && `decisions applied twice: ${r.decisionsAppliedTwice.join(', ')}`,
    r.approvalsAppliedTwice.length > 0 && `approvals applied twice: ${r.approvalsAppliedTwice.join(', ')}`,
    r.agentsNotActive.length > 0 &&
      `agents not Active: ${r.agentsNotActive.map((a) => `${a.id} ${a.status}`).join(', ')}`,
    r.leftBehind.length > 0 && `processes left behind: ${r.leftBehind.map((p) => `${p.pid} ${p.command}`).join('; ')}`,
    r.resources?.some((p) => p.growing) &&
      `still growing: ${r.resources
        .filter((p) => p.growing)
        .map((p) => p.name)
        .join(', ')}`,
  ].filter((f): f is string => typeof f === 'string');

/**
 * One run on a stack of its own (`vapora up` in a fresh state directory, on
 * free ports, with the default team): starts the features, answers every
 * gate they open as a person would (see person.ts), kill -9's processes
 * when asked to, waits for the features to end, then reads what happened
 * from Temporal, the task stream and the registry, stops the stack and looks
 * for what it left running.
 */
export async function chaosRun(options: RunOptions, say: (line: string) => void): Promise<RunReport> {
  const random = new SeededRandom(options.seed);
  const stateDir = tempDir('chaos');
  const env = await stackEnv(stateDir);
  // Ctrl-C, even while the stack starts: it runs detached (kills must not reach this process), so it is stopped here.
  let stopStack = async () => {
    const leftBehind = processesOf(stateDir);
    for (const p of leftBehind) process.kill(p.pid, 'SIGKILL');
    return leftBehind;
  };
  const interrupted = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping the stack in ${stateDir}`);
    void stopStack().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  say(`starting a stack with the default team in ${stateDir}`);
  const up = await vaporaUntilJson<{ status: string }>(['up', '--json'], env, 600_000, { detached: true });
  const killLeft = stopStack;
  stopStack = async () => {
    process.kill(-up.child.pid!, 'SIGTERM');
    await Promise.race([exited(up.child), sleep(60_000)]);
    await sleep(2000);
    return killLeft();
  };
  const config = loadConfig({ ...process.env, ...env });
  const connection = await temporalConnection(config.temporal);
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverter(config.temporal.codecKeys),
  });
  const ids: string[] = [];
  const ended = new Map<string, string>();
  const startedAt = Date.now();
  const start = async () => {
    const featureId = `chaos-${options.seed}-${ids.length + 1}`;
    ids.push(featureId);
    const input = parse(FeatureInput, { title: `Chaos ${ids.length}`, options: { developers: 1 } }, 'feature');
    await retried(() => startFeature(client, config.temporal.taskQueue, input, featureId));
  };
  for (let i = 0; i < options.features; i++) await start();
  say(`${options.features} features started`);
  const killer = options.killEverySecs
    ? new Killer(stateDir, options.killEverySecs, random, say, startedAt)
    : undefined;

  // A person answers every gate the features and their tasks open (releases, escalations handed to a person).
  const person = new Person(client, config.api.token, random, (id) => id.includes(`chaos-${options.seed}-`));

  // Soak: keep the offered load steady, and look at every process each minute.
  const samples = new Map<string, Sample[]>();
  const sampling = options.soakMs
    ? setInterval(() => {
        const line: string[] = [];
        for (const p of [...stackProcesses(stateDir), { name: 'vapora-up', pid: up.child.pid! }]) {
          const r = resourcesOf(p.pid);
          if (!r) continue;
          samples.set(p.name, [...(samples.get(p.name) ?? []), r]);
          line.push(`${p.name} ${r.rssMiB} MiB ${r.openFiles} fds`);
        }
        say(`minute ${Math.round((Date.now() - startedAt) / 60_000)}: ${line.join(' · ')}`);
      }, 60_000)
    : undefined;

  const deadline = startedAt + (options.soakMs ?? 0) + options.timeoutSecs * 1000;
  let lastSaid = 0;
  while (Date.now() < deadline) {
    // One visibility query a round rather than a describe per feature: with 100 in flight those were most of the server's load.
    const closed = await closedFeatures(client).catch(() => new Map<string, string>());
    for (const featureId of ids.filter((id) => !ended.has(id))) {
      const status = closed.get(featureWorkflowId(featureId));
      if (status) {
        ended.set(featureId, status);
        if (options.soakMs && Date.now() - startedAt < options.soakMs) await retried(start);
      }
    }
    if (ended.size === ids.length) break;
    if (Date.now() - lastSaid > 15_000) {
      lastSaid = Date.now();
      say(`${ended.size}/${ids.length} features ended after ${Math.round((Date.now() - startedAt) / 1000)} s`);
    }
    await sleep(2000);
  }
  const wallMs = Date.now() - startedAt;
  clearInterval(sampling);
  await killer?.stop();
  await person.stop();
  say(`${ended.size}/${ids.length} ended in ${(wallMs / 1000).toFixed(1)} s; checking what happened`);

  // Kills stopped: agents that were hit have their health checks to come back by.
  const registry = RegistryClient.of(config.api);
  let agentsNotActive: RunReport['agentsNotActive'] = [];
  for (const until = Date.now() + 120_000; Date.now() < until; await sleep(2000)) {
    agentsNotActive = await retried(() => registry.agents())
      .then((agents) =>
        agents.filter((a) => a.status !== 'Active').map((a) => ({ id: a.id, status: statusLabel(a.status) })),
      )
      .catch(() => [{ id: '(registry API)', status: 'not answering' }]);
    if (agentsNotActive.length === 0) break;
  }

  const statuses = await Promise.all(ids.map((id) => retried(() => featureStatus(client, id)).catch(() => undefined)));
  const gates = await person.answeredGates();
  const bus = await EventBus.connect(config.nats, { manageStreams: false });
  const ledger = await ledgerOf(bus, statuses, gates);
  await bus.close();
  await connection.close();

  process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
  const leftBehind = await stopStack();

  return {
    kills: killer !== undefined,
    wallMs,
    started: ids.length,
    completed: [...ended.values()].filter((s) => s === 'COMPLETED').length,
    stuck: ids
      .map((id, i) => ({ id, status: ended.get(id) ?? 'RUNNING', phase: statuses[i]?.phase ?? '?' }))
      .filter((f) => f.status !== 'COMPLETED'),
    ...ledger,
    agentsNotActive,
    leftBehind,
    killed: killer?.counts() ?? {},
    approvalsSent: person.sent,
    resources: options.soakMs ? [...samples].map(([name, s]) => growth(name, s)) : undefined,
  };
}

/** The status of every feature workflow that has ended, by workflow id. */
async function closedFeatures(client: Client): Promise<Map<string, string>> {
  const closed = new Map<string, string>();
  const query = `WorkflowType = 'featureWorkflow' AND ExecutionStatus != 'Running' AND ExecutionStatus != 'ContinuedAsNew'`;
  for await (const w of client.workflow.list({ query })) closed.set(w.workflowId, w.status.name);
  return closed;
}

/** Growing: the last third of the samples above the first third by half and more than 50 MiB, or half again the open files. */
function growth(name: string, samples: Sample[]): { name: string; first: Sample; last: Sample; growing: boolean } {
  const third = Math.max(1, Math.floor(samples.length / 3));
  const mean = (s: Sample[], k: keyof Sample) => s.reduce((n, x) => n + x[k], 0) / s.length;
  const [early, late] = [samples.slice(0, third), samples.slice(-third)];
  const rss = mean(late, 'rssMiB') - mean(early, 'rssMiB');
  const files = mean(late, 'openFiles') / Math.max(1, mean(early, 'openFiles'));
  const growing =
    samples.length >= 6 &&
    ((rss > 50 && rss > mean(early, 'rssMiB') / 2) || (files > 1.5 && mean(late, 'openFiles') > 64));
  return { name, first: samples[0]!, last: samples.at(-1)!, growing };
}
