import { join } from 'node:path';
import { createServer } from 'node:http';
import { Runtime, Worker } from '@temporalio/worker';
import { LoadMeter, createAgentActivities } from '../activities/agent';
import { EventBus } from '../src/bus/event-bus';
import { loadConfig } from '../src/config';
import { RegistryClient } from '../src/client/registry-client';
import { dataConverter } from '../src/temporal/payload-codec';
import { nativeConnection } from '../src/temporal/connection';
import { SUBJECTS, parse, type AgentStatus } from '../src/domain';
import { AgentSpec } from '../src/contracts/agent-spec';
import { agentTaskQueue } from '../src/contracts/task-queues';
import { LLMRouter } from '../src/llm/llm-router';
import { createLogger } from '../src/logger';
import { createMetrics } from '../src/observability/metrics';
import { startTracing } from '../src/observability/tracing';
import { stopWhenOwnerGone } from '../src/stack/owner-watch';
import { connectionLost, retry, whileDown } from '../src/host/retry';
import { decide } from '../src/agent/decision-maker';
import { waitForClaim } from '../src/agent/pod-identity';
import { TaskExecutor } from '../src/agent/task-executor';
import { agentCard } from '../src/agent/agent-card';
import { AGENT_CARD_PATH, type AgentCard } from '../src/contracts/agent-card';

/**
 * One agent instance: a Temporal worker on its own task queue, an HTTP health
 * endpoint, a NATS heartbeat carrying its load, and answers to other agents'
 * requests for help (and, for the DecisionMaker, for decisions). SIGTERM drains it: /health
 * answers 503, no new work is taken, running activities finish, then it exits.
 */
const config = loadConfig();
const given = JSON.parse(process.env.VAPORA_AGENT_SPEC ?? 'null') as Partial<AgentSpec> | null;
const startedAt = Date.now();
// Scaling until its worker runs (in a pod: until a lifecycle claims the pod).
let status: AgentStatus = 'Scaling';
/** Set once the agent knows who it is; the health endpoint answers before that. */
let running: { spec: AgentSpec; meter: LoadMeter; card: AgentCard } | undefined; // eslint-disable-line prefer-const -- read by the health endpoint before it is set

// Up first: a pod's liveness probe (`?live`) passes while it waits to be claimed; readiness needs an Active agent.
const metrics = createMetrics();
const health = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://agent');
  // Prometheus scrapes the same port the health checks use (the control plane lists it as a target).
  if (url.pathname === '/metrics') {
    void metrics.registry
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
    return;
  }
  // Its A2A agent card, for other agent systems to discover it (once it knows who it is).
  if (url.pathname === AGENT_CARD_PATH) {
    if (running) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(running.card));
    else res.writeHead(503).end();
    return;
  }
  if (url.pathname !== '/health') {
    res.writeHead(404).end();
    return;
  }
  const body = {
    agent_id: running?.spec.agent_id,
    role: given?.role,
    version: given?.version,
    status,
    pid: process.pid,
    load: running?.meter.load ?? 0,
    running_tasks: running?.meter.running ?? 0,
    uptime_secs: Math.round((Date.now() - startedAt) / 1000),
  };
  const ok = status === 'Active' || url.searchParams.has('live');
  res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
});
await new Promise<void>((resolve) =>
  health.listen(given?.port ?? 0, process.env.VAPORA_AGENT_HOST ?? '127.0.0.1', resolve),
);

const claim = new AbortController();
process.once('SIGTERM', () => claim.abort(new Error('stopped before it was claimed')));
const agentId =
  given?.agent_id ??
  (process.env.VAPORA_AGENT_ID_FILE
    ? await waitForClaim(process.env.VAPORA_AGENT_ID_FILE, claim.signal).catch(() => process.exit(0))
    : undefined);
const spec = parse(AgentSpec, { ...given, agent_id: agentId }, 'VAPORA_AGENT_SPEC');
const log = createLogger('agent', { fields: { agentId: spec.agent_id, role: spec.role } });
// The SDK's lines (with workflow and activity ids) join the agent's in one JSON stream.
Runtime.install({ logger: log });
const tracing = startTracing(config.observability.otlpEndpoint, 'vapora-agent', {
  'service.instance.id': spec.agent_id,
  'vapora.role': spec.role,
});
const meter = new LoadMeter(spec.max_concurrent_tasks);
running = { spec, meter, card: agentCard(spec, config.temporal) };

// Started while nats-server or Temporal restarts (the stack's supervisor brings them back in seconds, the chaos run
// kills them): wait for them rather than exit, which would count as a failed restart of this agent.
const serversBack = () => whileDown(60_000, connectionLost);
const bus = await retry(
  () =>
    EventBus.connect(config.nats, {
      name: `vapora-agent-${spec.agent_id}`,
      logger: log,
      metrics,
      manageStreams: false,
    }),
  serversBack(),
);
const router = new LLMRouter(config.llm);
const executor = new TaskExecutor(spec, {
  bus,
  // The control plane restarts in seconds when it dies: a step in flight waits for it rather than failing.
  registry: RegistryClient.of(config.api, { waitForPlaneMs: 60_000 }),
  token: config.api.token,
  workspacesDir: config.workspacesDir,
  router,
  // Clones of feature workspaces, one per task attempt: kept across a restart of this agent.
  workDir: join(config.stateDir, 'work', spec.agent_id),
});
const connection = await retry(() => nativeConnection(config.temporal), serversBack());
const worker = await Worker.create({
  connection,
  namespace: config.temporal.namespace,
  taskQueue: agentTaskQueue(spec.agent_id),
  activities: createAgentActivities(spec, meter, executor, bus, log),
  maxConcurrentActivityTaskExecutions: spec.max_concurrent_tasks,
  shutdownGraceTime: '25s',
  plugins: tracing ? [tracing.plugin] : [],
  dataConverter: dataConverter(config.temporal.codecKeys),
});

// One member of each role's queue group hears a request for help; it offers (in its own name) only with spare capacity.
bus.subscribe(
  SUBJECTS.RequestHelp,
  async (m) => {
    if (m.type === 'RequestHelp' && m.to_roles.includes(spec.role) && status === 'Active' && meter.load < 1)
      await bus.publish({
        type: 'HelpOffered',
        from_agent: spec.agent_id,
        to_agent: m.from_agent,
        capability: spec.capabilities[0]!,
      });
  },
  { queue: `help-${spec.role}` },
);
if (spec.role === 'decision-maker') {
  bus.reply(
    SUBJECTS.RequestDecision,
    async (m) => (m.type === 'RequestDecision' ? meter.track(() => decide(spec, router, m)) : undefined),
    { queue: 'decision-maker' },
  );
}

const beat = () =>
  bus
    .publish({ type: 'Heartbeat', agent_id: spec.agent_id, status, load: meter.load })
    .catch((e: unknown) => log.warn('heartbeat failed', { error: String(e) }));
const heartbeats = setInterval(() => void beat(), spec.heartbeat_secs * 1000);

status = 'Active';
void beat();
// A process agent outlives a restart of its control plane, not its stack (a pod's owner is its Deployment).
if (given?.agent_id) {
  const apiGraceMs = Math.max(5 * spec.heartbeat_secs * 1000, 30_000);
  stopWhenOwnerGone(
    { stackFile: config.stackFile, apiUrl: config.api.url, apiGraceMs, agentRecord: config.agentRecord },
    log,
  );
}
log.info('agent ready', { taskQueue: agentTaskQueue(spec.agent_id), port: spec.port, pid: process.pid });

process.once('SIGTERM', () => {
  status = 'Inactive';
  log.info('draining');
  void beat();
});
// Worker.run() returns after SIGTERM/SIGINT once running activities have finished.
await worker.run();
await executor.closeAll();
clearInterval(heartbeats);
await beat();
health.close();
await connection.close();
await bus.close();
await tracing?.shutdown();
log.info('agent stopped');
process.exit(0);
