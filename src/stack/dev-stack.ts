import { mkdirSync } from 'node:fs';
import { ApiAuth } from '../control-plane/api-auth';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { agentEnv, type Config } from '../config';
import { ProcessDeployer } from '../deploy/process-deployer';
import { ensureNatsServer, startNatsServer } from './nats-server';
import { NatsKeys } from '../bus/nats-credentials';
import { freePort, freePorts, isListening, isLoopback, splitHostPort, urlHostPort } from '../host/ports';
import { scrapeTargetsFile } from '../control-plane/scrape-targets';
import { ensurePrometheus, startPrometheus } from './prometheus';
import { ensureJaeger, startJaeger } from './jaeger';

/** Jaeger's usual ports, where people and tools look for it. */
const JAEGER_OTLP_PORT = 4318;
const JAEGER_UI_PORT = 16686;
import { waitFor } from '../host/retry';
import { PROJECT_ROOT, tsNodeArgs } from '../host/project';
import { runStackCheck } from '../client/stack-check';
import { isRunning, ownCommandLine } from '../host/live-process';
import { readStack, removeStack, stackFile, stillRunning, writeStack } from './stack-file';
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
  /** Prometheus's UI, when started with `--observability`. */
  prometheus?: string;
  /** Jaeger's UI and where spans go (OTLP over HTTP), when started with `--observability`. */
  jaeger?: { ui: string; otlp: string };
}

export interface StackOptions {
  /** Also Prometheus, scraping the control plane, its Temporal SDK, the dev server and every agent. */
  observability?: boolean;
}

export class PortInUseError extends Error {
  constructor(port: number, what: string, variable: string, hint: string) {
    super(`port ${port} (${what}) is already in use. ${hint.replace('$VAR', variable)}`);
  }
}

/** A child process that is restarted when it dies, within a budget; never once its stack is stopping. */
class Supervised {
  private process?: SupervisedProcess;
  private starting?: Promise<void>;
  private stopping = false;
  private restarts: number[] = [];

  constructor(
    readonly name: string,
    private readonly launch: () => Promise<SupervisedProcess>,
    private readonly onStarted: () => void,
    private readonly onProgress: (line: string) => void,
    private readonly onGiveUp: (error: Error) => void,
  ) {}

  get running(): SupervisedProcess | undefined {
    return this.process?.running ? this.process : undefined;
  }

  start(): Promise<void> {
    this.starting = this.launch().then((process) => {
      this.process = process;
      this.onStarted();
      void process.exited.then((code) => {
        if (!this.stopping && process === this.process) void this.restart(code);
      });
    });
    return this.starting;
  }

  private async restart(code: number | null): Promise<void> {
    const now = Date.now();
    this.restarts = [...this.restarts.filter((t) => now - t < 60_000), now];
    if (this.restarts.length > 5)
      return this.onGiveUp(new Error(`${this.name} died 5 times within a minute; giving up`));
    // Decided after the backoff: a signal to the whole process group stops this child and, within that time, the stack.
    await sleep(500 * 2 ** (this.restarts.length - 1));
    if (this.stopping) return;
    this.onProgress(`${this.name} exited (code ${code}); restarting`);
    await this.start().catch((error: Error) => this.onGiveUp(error));
  }

  /** From now on a death is final: the stack is stopping, in whatever order its children go. */
  hold(): void {
    this.stopping = true;
  }

  /** Stops the child, and one still starting once it has started. */
  async stop(graceMs?: number): Promise<void> {
    this.hold();
    await this.starting?.catch(() => undefined);
    await this.process?.stop(graceMs);
  }
}

const USE_EXISTING =
  "Stop what listens there, or set $VAR to another address to start Vapora's own server there, or set it explicitly to this address to use the server that is listening.";

/**
 * `vapora up`: the Temporal dev server, nats-server -js and the control-plane
 * worker (which owns the embedded SurrealDB), each supervised, state under
 * `config.stateDir`. Endpoints named by the user are used instead of started.
 */
export class DevStack {
  readonly failed: Promise<Error>;
  private giveUp!: (error: Error) => void;
  private readonly services: Supervised[] = [];
  private readonly file: string;
  private stopped?: Promise<void>;

  constructor(
    private readonly config: Config,
    private readonly onProgress: (line: string) => void,
    private readonly options: StackOptions = {},
  ) {
    this.failed = new Promise((resolve) => (this.giveUp = resolve));
    this.file = stackFile(config.stateDir);
  }

  /** Starts what is missing; on failure, or when stop() is called meanwhile, stops what had started. */
  async start(): Promise<Endpoints> {
    // Refused before anything here is this stack's to stop.
    await this.claimStateDir();
    try {
      return await this.bringUp();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  private async bringUp(): Promise<Endpoints> {
    const { config, onProgress } = this;
    const logs = join(config.stateDir, 'logs');
    mkdirSync(logs, { recursive: true });
    const started: string[] = [];
    const temporal = splitHostPort(config.temporal.address);
    const nats = urlHostPort(config.nats.url);

    const startTemporal = !(await this.useExisting(
      'Temporal frontend',
      temporal,
      'TEMPORAL_ADDRESS',
      config.temporal.external,
    ));
    if (startTemporal && (config.temporal.connection.tls || config.temporal.connection.apiKey))
      throw new Error(
        `nothing answers at ${config.temporal.address}, which the Temporal profile reaches with TLS; Vapora's dev server speaks plain gRPC only (unset TEMPORAL_TLS_*, TEMPORAL_API_KEY or the profile's tls to use it)`,
      );
    const startNats = !(await this.useExisting('NATS', nats, 'NATS_URL', config.nats.external));
    if (startNats && !config.nats.url.startsWith('nats://'))
      throw new Error(
        `nothing answers at ${config.nats.url} (NATS_URL); Vapora starts its own nats-server at a plain nats://host:port only, with credentials of its own`,
      );
    const otherPort = 'Stop what listens there, or set $VAR to another port.';
    if (startTemporal && (await isListening(temporal.host, config.temporal.uiPort))) {
      throw new PortInUseError(config.temporal.uiPort, 'Temporal Web UI', 'TEMPORAL_UI_PORT', otherPort);
    }
    if (await isListening('127.0.0.1', config.api.port))
      throw new PortInUseError(config.api.port, 'registry API', 'VAPORA_API_PORT', otherPort);
    const { prometheusPort } = config.observability;
    const observed = this.options.observability;
    // Prometheus's and Jaeger's configurations, beside the agents' targets the control plane keeps there.
    const observabilityDir = join(config.stateDir, 'observability');
    if (observed) mkdirSync(observabilityDir, { recursive: true });
    if (observed && (await isListening('127.0.0.1', prometheusPort)))
      throw new PortInUseError(prometheusPort, 'Prometheus', 'VAPORA_PROMETHEUS_PORT', otherPort);
    // Ports nobody names: Prometheus finds them in the configuration written for it.
    const metricsPorts = observed
      ? {
          sdk: await freePort(),
          server: startTemporal ? await freePort() : undefined,
          nats: startNats ? await freePort() : undefined,
        }
      : undefined;
    for (const [port, what] of [
      [JAEGER_OTLP_PORT, 'Jaeger OTLP'],
      [JAEGER_UI_PORT, 'Jaeger UI'],
    ] as const)
      if (observed && (await isListening('127.0.0.1', port)))
        throw new PortInUseError(port, what, 'OTEL_EXPORTER_OTLP_ENDPOINT', 'Stop what listens there.');

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
          metricsPort: metricsPorts?.server,
          // The Web UI shows encrypted payloads decoded, through the control plane's codec endpoint.
          codecEndpoint: config.temporal.codecKeys
            ? `${config.api.url}/codec/${ApiAuth.of(config.stateDir).codecToken()}`
            : undefined,
        }),
      );
      started.push('temporal');
    } else {
      await waitFor(
        `Temporal at ${config.temporal.address} (TEMPORAL_ADDRESS)`,
        () => temporalAnswers(config.temporal),
        { timeoutMs: 10_000 },
      );
    }

    // Our own NATS admits only the credentials it issues: the control plane's, the CLI's, and each agent's at deploy.
    let natsCreds: string | undefined;
    if (startNats) {
      const bin = await ensureNatsServer(onProgress);
      const keys = NatsKeys.ensure(config.stateDir);
      const configFile = await keys.serverConfig();
      natsCreds = await keys.issue({ kind: 'control-plane' });
      await keys.issue({ kind: 'cli' });
      onProgress(`starting nats-server with JetStream on ${config.nats.url} (${bin.version})`);
      await this.supervise('nats', () =>
        startNatsServer({
          bin: bin.path,
          host: nats.host,
          port: nats.port,
          storeDir: join(config.stateDir, 'nats'),
          logFile: join(logs, 'nats.log'),
          monitorPort: metricsPorts?.nats,
          configFile,
        }),
      );
      started.push('nats');
    }

    // Up before the worker, so its first spans (and its agents') have somewhere to go.
    let jaeger: Endpoints['jaeger'];
    if (observed) {
      const bin = await ensureJaeger(config.cacheDir, onProgress);
      jaeger = { ui: `http://127.0.0.1:${JAEGER_UI_PORT}`, otlp: `http://127.0.0.1:${JAEGER_OTLP_PORT}` };
      onProgress(`starting Jaeger ${bin.version} on ${jaeger.ui} (OTLP on ${jaeger.otlp})`);
      const ports = { otlp: JAEGER_OTLP_PORT, ui: JAEGER_UI_PORT, ...(await freePorts(['grpc', 'health'])) };
      await this.supervise('jaeger', () =>
        startJaeger({
          bin: bin.path,
          host: '127.0.0.1',
          ports,
          dir: observabilityDir,
          logFile: join(logs, 'jaeger.log'),
        }),
      );
      started.push('jaeger');
    }

    onProgress(`starting control-plane worker on task queue "${config.temporal.taskQueue}"`);
    await this.supervise(
      'worker',
      async () =>
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
            ...(natsCreds && { NATS_CREDS: natsCreds }),
            SURREAL_URL: config.surreal.url,
            // The worker and the agents it deploys exit when this stack is gone (see src/stack/owner-watch.ts).
            VAPORA_STACK_FILE: this.file,
            ...(metricsPorts && { VAPORA_TEMPORAL_METRICS_PORT: String(metricsPorts.sdk) }),
            ...(metricsPorts?.nats && { VAPORA_NATS_MONITOR_URL: `http://${nats.host}:${metricsPorts.nats}` }),
            // Every span of the worker and of the agents it starts (they inherit its environment) goes to Jaeger.
            ...(jaeger && { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlp, VAPORA_JAEGER_UI: jaeger.ui }),
          },
        }),
    );
    started.push('worker');
    onProgress('checking the stack end to end (workflow → SurrealDB → NATS)');
    await Promise.race([runStackCheck(config.temporal, 120_000), this.failed.then((error) => Promise.reject(error))]);

    let prometheus: string | undefined;
    if (metricsPorts) {
      const bin = await ensurePrometheus(onProgress);
      prometheus = `http://127.0.0.1:${prometheusPort}`;
      onProgress(`starting Prometheus on ${prometheus} (${bin.version.split(' (')[0]})`);
      await this.supervise('prometheus', () =>
        startPrometheus({
          bin: bin.path,
          host: '127.0.0.1',
          port: prometheusPort,
          dir: observabilityDir,
          logFile: join(logs, 'prometheus.log'),
          sources: {
            controlPlane: `127.0.0.1:${config.api.port}`,
            temporalSdk: `127.0.0.1:${metricsPorts.sdk}`,
            temporalServer: metricsPorts.server ? `127.0.0.1:${metricsPorts.server}` : undefined,
            nats: config.observability.natsMonitorUrl || metricsPorts.nats ? `127.0.0.1:${config.api.port}` : undefined,
            agentsFile: scrapeTargetsFile(config.stateDir),
          },
        }),
      );
      started.push('prometheus');
    }

    return {
      temporal: config.temporal.address,
      namespace: config.temporal.namespace,
      webUi: startTemporal ? `http://${temporal.host}:${config.temporal.uiPort}` : undefined,
      nats: config.nats.url,
      surreal: config.surreal.url,
      taskQueue: config.temporal.taskQueue,
      stateDir: config.stateDir,
      started,
      prometheus,
      jaeger,
    };
  }

  /** True to use a server already at the address; false to start one; throws when neither is right. */
  private async useExisting(
    what: string,
    at: { host: string; port: number },
    variable: string,
    external: boolean,
  ): Promise<boolean> {
    const listening = await isListening(at.host, at.port);
    if (listening && external) return true;
    if (listening) throw new PortInUseError(at.port, what, variable, USE_EXISTING);
    if (!isLoopback(at.host))
      throw new Error(
        `${what} at ${at.host}:${at.port} (${variable}) does not answer, and Vapora only starts servers on this machine`,
      );
    return false;
  }

  /**
   * Makes this process the owner of the state dir: refused while another
   * `vapora up` runs on it; what one that was killed left running is stopped.
   */
  private async claimStateDir(): Promise<void> {
    const previous = readStack(this.file);
    if (previous && stillRunning(previous.owner)) {
      throw new Error(
        `another vapora up (pid ${previous.owner.pid}) runs on ${this.config.stateDir}; stop it first, or set VAPORA_STATE_DIR to another folder`,
      );
    }
    if (previous) {
      for (const [name, child] of Object.entries(previous.children).filter(([, c]) => stillRunning(c))) {
        this.onProgress(`stopping ${name} (pid ${child.pid}), left running by a vapora up that did not stop`);
        process.kill(child.pid, 'SIGKILL');
        // Its ports are free only once it is gone: any command line, since an exiting process loses its own first.
        await waitFor(`${name} (pid ${child.pid}) to exit`, async () => !isRunning(child.pid), { timeoutMs: 10_000 });
      }
      await this.stopAgents('left by that vapora up');
    }
    mkdirSync(this.config.stateDir, { recursive: true });
    this.record();
  }

  /** The stack file: this process as the owner, and each server's current process. */
  private record(): void {
    if (this.stopped) return;
    const children = Object.fromEntries(
      this.services.flatMap((s) => {
        const p = s.running;
        return p?.pid ? [[s.name, { pid: p.pid, argv: [p.spec.command, ...p.spec.args] }]] : [];
      }),
    );
    writeStack(this.file, { owner: { pid: process.pid, argv: ownCommandLine() }, children });
  }

  private async supervise(name: string, launch: () => Promise<SupervisedProcess>): Promise<void> {
    if (this.stopped) throw new Error(`not starting ${name}: the stack is stopping`);
    const service = new Supervised(
      name,
      launch,
      () => this.record(),
      this.onProgress,
      (error) => this.giveUp(error),
    );
    this.services.push(service);
    await service.start();
  }

  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.services.map((s) => [s.name, s.running?.pid]));
  }

  /**
   * Stops the worker first, then the agent processes it deployed (by pid, from
   * their records: no server needs to answer), then the servers. Bounded
   * whatever died first: the worker gets 10 s, each agent 5 s to drain, the
   * servers 10 s together, and each is then killed. Calling it again waits
   * for the same stop.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      for (const service of this.services) service.hold();
      await this.services.find((s) => s.name === 'worker')?.stop(10_000);
      await this.stopAgents('of this stack');
      await Promise.all(this.services.filter((s) => s.name !== 'worker').map((s) => s.stop(10_000)));
      removeStack(this.file);
    })();
    return this.stopped;
  }

  /** Their lifecycle workflows start them again on the next start. */
  private async stopAgents(whose: string): Promise<void> {
    const { config } = this;
    const agents = new ProcessDeployer({
      stateDir: config.stateDir,
      env: agentEnv(config),
      drainMs: 5_000,
      tokenFor: (id) => ApiAuth.of(config.stateDir).agentToken(id),
    });
    const recorded = agents.recorded();
    if (recorded.length) this.onProgress(`stopping ${recorded.length} agent processes ${whose}`);
    await Promise.all(recorded.map((id) => agents.stop(id)));
  }
}
