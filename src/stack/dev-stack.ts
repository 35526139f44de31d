import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { agentEnv, type Config } from '../config';
import { ProcessDeployer } from '../deploy/process-deployer';
import { ensureNatsServer, startNatsServer } from './nats-server';
import { isListening, isLoopback, splitHostPort, waitFor } from './ports';
import { PROJECT_ROOT, tsNodeArgs } from './project';
import { runStackCheck } from './stack-check';
import { SupervisedProcess } from './supervised-process';
import { ensureTemporalCli } from './temporal-cli';
import { startTemporalDevServer, temporalAnswers } from './temporal-dev-server';

export interface Endpoints {
  temporal: string;
  namespace: string;
  webUi?: string;
  nats: string;
  surreal: string;
  taskQueue: string;
  stateDir: string;
  started: string[];
}

export class PortInUseError extends Error {
  constructor(port: number, what: string, variable: string, hint: string) {
    super(`port ${port} (${what}) is already in use. ${hint.replace('$VAR', variable)}`);
  }
}

/** A child process that is restarted when it dies, within a budget. */
class Supervised {
  private process?: SupervisedProcess;
  private stopping = false;
  private restarts: number[] = [];

  constructor(
    readonly name: string,
    private readonly launch: () => Promise<SupervisedProcess>,
    private readonly onProgress: (line: string) => void,
    private readonly onGiveUp: (error: Error) => void,
  ) {}

  get pid(): number | undefined {
    return this.process?.pid;
  }

  async start(): Promise<void> {
    this.process = await this.launch();
    const current = this.process;
    void current.exited.then((code) => {
      if (this.stopping || current !== this.process) return;
      this.onProgress(`${this.name} exited (code ${code}); restarting`);
      void this.restart();
    });
  }

  private async restart(): Promise<void> {
    const now = Date.now();
    this.restarts = [...this.restarts.filter((t) => now - t < 60_000), now];
    if (this.restarts.length > 5) return this.onGiveUp(new Error(`${this.name} died 5 times within a minute; giving up`));
    await new Promise((r) => setTimeout(r, 500 * 2 ** (this.restarts.length - 1)));
    if (this.stopping) return;
    await this.start().catch((error: Error) => this.onGiveUp(error));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.process?.stop();
  }
}

const USE_EXISTING = 'Stop what listens there, or set $VAR to another address to start Vapora\'s own server there, or set it explicitly to this address to use the server that is listening.';

/**
 * `vapora up`: the Temporal dev server, nats-server -js and the control-plane
 * worker (which owns the embedded SurrealDB), each supervised, state under
 * `config.stateDir`. Endpoints named by the user are used instead of started.
 */
export class DevStack {
  readonly failed: Promise<Error>;
  private giveUp!: (error: Error) => void;
  private readonly services: Supervised[] = [];

  private constructor(
    private readonly config: Config,
    private readonly onProgress: (line: string) => void,
  ) {
    this.failed = new Promise((resolve) => (this.giveUp = resolve));
  }

  static async start(config: Config, onProgress: (line: string) => void): Promise<{ stack: DevStack; endpoints: Endpoints }> {
    const stack = new DevStack(config, onProgress);
    try {
      return { stack, endpoints: await stack.bringUp() };
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }

  private async bringUp(): Promise<Endpoints> {
    const { config, onProgress } = this;
    const logs = join(config.stateDir, 'logs');
    mkdirSync(logs, { recursive: true });
    const started: string[] = [];
    const temporal = splitHostPort(config.temporal.address);
    const nats = splitHostPort(config.nats.url.replace('nats://', ''));

    const startTemporal = !(await this.useExisting('Temporal frontend', temporal, 'TEMPORAL_ADDRESS', config.temporal.external));
    const startNats = !(await this.useExisting('NATS', nats, 'NATS_URL', config.nats.external));
    const otherPort = 'Stop what listens there, or set $VAR to another port.';
    if (startTemporal && (await isListening(temporal.host, config.temporal.uiPort))) {
      throw new PortInUseError(config.temporal.uiPort, 'Temporal Web UI', 'TEMPORAL_UI_PORT', otherPort);
    }
    if (await isListening('127.0.0.1', config.api.port)) throw new PortInUseError(config.api.port, 'registry API', 'VAPORA_API_PORT', otherPort);

    if (startTemporal) {
      const cli = await ensureTemporalCli(config.cacheDir, onProgress);
      onProgress(`starting Temporal dev server on ${config.temporal.address} (${cli.version})`);
      await this.supervise('temporal', () =>
        startTemporalDevServer({
          cli: cli.path,
          host: temporal.host,
          port: temporal.port,
          uiPort: config.temporal.uiPort,
          dbFile: join(config.stateDir, 'temporal.db'),
          namespace: config.temporal.namespace,
          logFile: join(logs, 'temporal.log'),
        }),
      );
      started.push('temporal');
    } else {
      await waitFor(`Temporal at ${config.temporal.address} (TEMPORAL_ADDRESS)`, () => temporalAnswers(config.temporal.address, config.temporal.namespace), { timeoutMs: 10_000 });
    }

    if (startNats) {
      const bin = await ensureNatsServer(onProgress);
      onProgress(`starting nats-server with JetStream on ${config.nats.url} (${bin.version})`);
      await this.supervise('nats', () =>
        startNatsServer({ bin: bin.path, host: nats.host, port: nats.port, storeDir: join(config.stateDir, 'nats'), logFile: join(logs, 'nats.log') }),
      );
      started.push('nats');
    }

    onProgress(`starting control-plane worker on task queue "${config.temporal.taskQueue}"`);
    await this.supervise('worker', async () =>
      new SupervisedProcess({
        name: 'worker',
        command: process.execPath,
        args: tsNodeArgs('workers/control-plane.ts'),
        cwd: PROJECT_ROOT,
        logFile: join(logs, 'worker.log'),
        env: {
          ...process.env,
          VAPORA_STATE_DIR: config.stateDir,
          TEMPORAL_ADDRESS: config.temporal.address,
          TEMPORAL_NAMESPACE: config.temporal.namespace,
          VAPORA_TASK_QUEUE: config.temporal.taskQueue,
          VAPORA_API_PORT: String(config.api.port),
          NATS_URL: config.nats.url,
          SURREAL_URL: config.surreal.url,
        },
      }),
    );
    started.push('worker');
    onProgress('checking the stack end to end (workflow → SurrealDB → NATS)');
    await Promise.race([
      runStackCheck({ address: config.temporal.address, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, timeoutMs: 120_000 }),
      this.failed.then((error) => Promise.reject(error)),
    ]);

    return {
      temporal: config.temporal.address,
      namespace: config.temporal.namespace,
      webUi: startTemporal ? `http://${temporal.host}:${config.temporal.uiPort}` : undefined,
      nats: config.nats.url,
      surreal: config.surreal.url,
      taskQueue: config.temporal.taskQueue,
      stateDir: config.stateDir,
      started,
    };
  }

  /** True to use a server already at the address; false to start one; throws when neither is right. */
  private async useExisting(what: string, at: { host: string; port: number }, variable: string, external: boolean): Promise<boolean> {
    const listening = await isListening(at.host, at.port);
    if (listening && external) return true;
    if (listening) throw new PortInUseError(at.port, what, variable, USE_EXISTING);
    if (!isLoopback(at.host)) throw new Error(`${what} at ${at.host}:${at.port} (${variable}) does not answer, and Vapora only starts servers on this machine`);
    return false;
  }

  private async supervise(name: string, launch: () => Promise<SupervisedProcess>): Promise<void> {
    const service = new Supervised(name, launch, this.onProgress, (error) => this.giveUp(error));
    await service.start();
    this.services.push(service);
  }

  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.services.map((s) => [s.name, s.pid]));
  }

  /** Stops the worker first, then the agent processes it deployed, then the servers they use. */
  async stop(): Promise<void> {
    await this.services.find((s) => s.name === 'worker')?.stop();
    const agents = this.agentProcesses();
    const recorded = agents.recorded();
    if (recorded.length) this.onProgress(`stopping ${recorded.length} agent processes`);
    await Promise.all(recorded.map((id) => agents.stop(id)));
    for (const service of [...this.services].reverse()) await service.stop();
  }

  /** The deployer's view of the agent processes, to stop them with the stack (their lifecycles restart them on the next start). */
  private agentProcesses(): ProcessDeployer {
    const { config } = this;
    return new ProcessDeployer({
      stateDir: config.stateDir,
      env: agentEnv(config),
      drainMs: 5_000,
    });
  }
}
