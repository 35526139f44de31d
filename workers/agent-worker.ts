import { createServer } from 'node:http';
import { NativeConnection, Worker } from '@temporalio/worker';
import { LoadMeter, createAgentActivities } from '../activities/agent';
import { EventBus } from '../src/bus/event-bus';
import { loadConfig } from '../src/config';
import { RegistryClient } from '../src/api/registry-client';
import { SUBJECTS, parse, type AgentStatus } from '../src/domain';
import { AgentSpec } from '../src/fleet/agent-spec';
import { agentTaskQueue } from '../src/temporal/task-queues';
import { LLMRouter } from '../src/llm/llm-router';
import { createLogger } from '../src/logger';
import { decide } from '../src/work/decision-maker';
import { TaskExecutor } from '../src/work/task-executor';

/**
 * One agent instance: a Temporal worker on its own task queue, an HTTP health
 * endpoint, a NATS heartbeat carrying its load, and answers to other agents'
 * requests for help (and, for the DecisionMaker, for decisions). SIGTERM drains it: /health
 * answers 503, no new work is taken, running activities finish, then it exits.
 */
const spec = parse(AgentSpec, JSON.parse(process.env.VAPORA_AGENT_SPEC ?? 'null'), 'VAPORA_AGENT_SPEC');
const config = loadConfig();
const log = createLogger(`agent ${spec.agent_id}`);
const meter = new LoadMeter(spec.max_concurrent_tasks);
const startedAt = Date.now();
let status: AgentStatus = 'Active';

const bus = await EventBus.connect(config.nats.url, { name: `vapora-agent-${spec.agent_id}`, logger: log });
const router = new LLMRouter(config.llm);
const executor = new TaskExecutor(spec, { bus, registry: new RegistryClient(config.api.url), router });
const connection = await NativeConnection.connect({ address: config.temporal.address });
const worker = await Worker.create({
  connection,
  namespace: config.temporal.namespace,
  taskQueue: agentTaskQueue(spec.agent_id),
  activities: createAgentActivities(spec, meter, executor, bus),
  maxConcurrentActivityTaskExecutions: spec.max_concurrent_tasks,
  shutdownGraceTime: '25s',
});

// One member of each role's queue group hears a request for help; it offers only with spare capacity.
bus.reply(
  SUBJECTS.RequestHelp,
  async (m) =>
    m.type === 'RequestHelp' && m.to_roles.includes(spec.role) && status === 'Active' && meter.load < 1
      ? { type: 'HelpOffered', from_agent: spec.agent_id, to_agent: m.from_agent, capability: spec.capabilities[0]! }
      : undefined,
  { queue: `help-${spec.role}` },
);
if (spec.role === 'decision-maker') {
  bus.reply(SUBJECTS.RequestDecision, async (m) => (m.type === 'RequestDecision' ? meter.track(() => decide(spec, router, m)) : undefined), { queue: 'decision-maker' });
}

const beat = () =>
  bus.publish({ type: 'Heartbeat', agent_id: spec.agent_id, status, load: meter.load }).catch((e: unknown) => log.warn('heartbeat failed', { error: String(e) }));
const heartbeats = setInterval(beat, spec.heartbeat_secs * 1000);

const health = createServer((req, res) => {
  if (req.url !== '/health') {
    res.writeHead(404).end();
    return;
  }
  const body = {
    agent_id: spec.agent_id,
    role: spec.role,
    version: spec.version,
    status,
    pid: process.pid,
    load: meter.load,
    running_tasks: meter.running,
    uptime_secs: Math.round((Date.now() - startedAt) / 1000),
  };
  res.writeHead(status === 'Active' ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
});
await new Promise<void>((resolve) => health.listen(spec.port, '127.0.0.1', resolve));
void beat();
log.info('agent ready', { taskQueue: agentTaskQueue(spec.agent_id), port: spec.port, pid: process.pid });

process.once('SIGTERM', () => {
  status = 'Inactive';
  log.info('draining');
  void beat();
});
// Worker.run() returns after SIGTERM/SIGINT once running activities have finished.
await worker.run();
clearInterval(heartbeats);
await beat();
health.close();
await connection.close();
await bus.close();
log.info('agent stopped');
process.exit(0);
