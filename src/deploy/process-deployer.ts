import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isListening, freePort } from '../host/ports';
import { waitFor } from '../host/retry';
import { isRunning } from '../host/live-process';
import { PROJECT_ROOT, tsNodeArgs } from '../host/project';
import type { CheckResult, Deployer, DeploySpec, HealthProbe } from './deployer';
import type { Deployment } from '../contracts/fleet';
import { checkOnce } from './health-check';
import { agentSpecOf } from '../contracts/agent-spec';

export interface ProcessDeployerOptions {
  /** Holds one record per running agent (`agents/<id>.json`) and its log (`logs/agents/<id>.log`). */
  stateDir: string;
  /** Environment every agent process gets: where Temporal, NATS and the registry API are. */
  env: { TEMPORAL_ADDRESS: string; TEMPORAL_NAMESPACE: string; NATS_URL: string; VAPORA_API_PORT: string };
  /** How long a stopping agent may drain before it is killed. */
  drainMs?: number;
  /** The agent's own API token (see src/control-plane/api-auth.ts), given in its environment. */
  tokenFor: (agentId: string) => string;
  /** The agent's own NATS credentials file, when the stack's NATS issues them (see src/bus/nats-credentials.ts). */
  natsCredsFor?: (agentId: string, manifest: DeploySpec['manifest']) => Promise<string>;
  /**
   * The feature workspaces' directory, for agents to clone and push directly:
   * on one machine that spares the control plane a `git http-backend` process
   * per request. Without it they go through the API over HTTP, as pods do.
   */
  workspacesDir?: string;
}

const ProcessRecord = z.object({
  agentId: z.string(),
  podId: z.string(),
  ip: z.string(),
  port: z.number(),
  startedAt: z.string(),
  pid: z.number(),
});
type ProcessRecord = z.infer<typeof ProcessRecord>;

const AGENT_ENTRY = 'workers/agent-worker.ts';

/**
 * Each agent instance is a real OS process running workers/agent-worker.ts,
 * detached so it outlives a restart of the control plane; a record file per
 * agent lets any control-plane process find it again.
 */
export class ProcessDeployer implements Deployer {
  private readonly records: string;
  private readonly logs: string;

  constructor(private readonly options: ProcessDeployerOptions) {
    this.records = join(options.stateDir, 'agents');
    this.logs = join(options.stateDir, 'logs', 'agents');
    mkdirSync(this.records, { recursive: true });
    mkdirSync(this.logs, { recursive: true });
  }

  async deploy({ agentId, manifest }: DeploySpec): Promise<Deployment> {
    const running = await this.endpoint(agentId);
    if (running) return running;
    const port = await freePort();
    const spec = agentSpecOf(agentId, manifest, port);
    const natsCreds = await this.options.natsCredsFor?.(agentId, manifest);
    const log = openSync(join(this.logs, `${agentId}.log`), 'a');
    const child = spawn(process.execPath, [...tsNodeArgs(AGENT_ENTRY), agentId], {
      cwd: PROJECT_ROOT,
      detached: true,
      stdio: ['ignore', log, log],
      // The agent keeps its working copies under the same state directory as its records.
      env: {
        ...process.env,
        ...this.options.env,
        VAPORA_STATE_DIR: this.options.stateDir,
        VAPORA_AGENT_SPEC: JSON.stringify(spec),
        VAPORA_AGENT_TOKEN: this.options.tokenFor(agentId),
        VAPORA_AGENT_RECORD: this.recordFile(agentId),
        ...(natsCreds && { NATS_CREDS: natsCreds }),
        ...(this.options.workspacesDir && { VAPORA_WORKSPACES_DIR: this.options.workspacesDir }),
      },
    });
    closeSync(log);
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start agent ${agentId}`);
    const record: ProcessRecord = {
      agentId,
      podId: `pid-${pid}`,
      ip: '127.0.0.1',
      port,
      startedAt: new Date().toISOString(),
      pid,
    };
    writeFileSync(this.recordFile(agentId), JSON.stringify(record));
    await waitFor(`agent ${agentId} (pid ${pid}) to listen on ${port}`, () => isListening('127.0.0.1', port), {
      timeoutMs: 60_000,
      failIf: () => (isAgentProcess(pid, agentId) ? undefined : `it exited; see ${join(this.logs, `${agentId}.log`)}`),
    });
    return toDeployment(record);
  }

  async stop(agentId: string): Promise<void> {
    const record = this.read(agentId);
    if (record && isAgentProcess(record.pid, agentId)) {
      process.kill(record.pid, 'SIGTERM');
      const drained = await waitFor(`agent ${agentId} to drain`, async () => !isAgentProcess(record.pid, agentId), {
        timeoutMs: this.options.drainMs ?? 30_000,
      }).then(
        () => true,
        () => false,
      );
      if (!drained) process.kill(record.pid, 'SIGKILL');
    }
    rmSync(this.recordFile(agentId), { force: true });
  }

  async restart(spec: DeploySpec): Promise<Deployment> {
    await this.stop(spec.agentId);
    return this.deploy(spec);
  }

  /** The agent's own health endpoint answers, and its NATS heartbeats are recent. */
  check(deployment: Deployment, probe: HealthProbe): Promise<CheckResult> {
    return checkOnce(deployment, probe.path, probe.config, probe.lastHeartbeatAt);
  }

  async endpoint(agentId: string): Promise<Deployment | undefined> {
    const record = this.read(agentId);
    return record && isAgentProcess(record.pid, agentId) ? toDeployment(record) : undefined;
  }

  /** Agents with a record here, running or not. */
  recorded(): string[] {
    return readdirSync(this.records)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length));
  }

  private recordFile(agentId: string): string {
    return join(this.records, `${agentId}.json`);
  }

  private read(agentId: string): ProcessRecord | undefined {
    return readRecord(this.recordFile(agentId));
  }
}

/**
 * Why the agent process `pid` is no longer the instance its record (`file`)
 * keeps, or undefined while it is (or no record is kept: it is being stopped
 * or replaced, and its deployer stops it).
 */
export function replacedIn(file: string, pid = process.pid): string | undefined {
  const recorded = readRecord(file)?.pid;
  return recorded === undefined || recorded === pid
    ? undefined
    : `its deployer's record ${file} names another instance (pid ${recorded})`;
}

/** An agent process's record as its deployer wrote it; undefined while there is none (or it is being written). */
export function readRecord(file: string): ProcessRecord | undefined {
  try {
    return ProcessRecord.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

function toDeployment({ pid: _pid, ...deployment }: ProcessRecord): Deployment {
  return deployment;
}

/** True when `pid` is alive and is the agent worker for `agentId` (a pid can be reused by another program). */
const isAgentProcess = (pid: number, agentId: string) =>
  isRunning(pid, (argv) => argv.some((a) => a.endsWith(AGENT_ENTRY)) && argv.includes(agentId));
