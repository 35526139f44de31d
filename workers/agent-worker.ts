import { createServer } from 'node:http';
import { NativeConnection, Worker } from '@temporalio/worker';
import { LoadMeter, createAgentActivities } from '../activities/agent';
import { EventBus } from '../src/bus/event-bus';
import { loadConfig } from '../src/config';
import { parse, type AgentStatus } from '../src/domain';
import { AgentSpec, agentTaskQueue } from '../src/fleet/agent-spec';
import { createLogger } from '../src/logger';

/**
 * One agent instance: a Temporal worker on its own task queue, an HTTP health
 * endpoint, and a NATS heartbeat carrying its load. SIGTERM drains it: /health
 * answers 503, no new work is taken, running activities finish, then it exits.
 */
const spec = parse(AgentSpec, JSON.parse(process.env.VAPORA_AGENT_SPEC ?? 'null'), 'VAPORA_AGENT_SPEC');
const config = loadConfig();
const log = createLogger(`agent ${spec.agent_id}`);
const meter = new LoadMeter(spec.max_concurrent_tasks);
const startedAt = Date.now();
let status: AgentStatus = 'Active';

const bus = await EventBus.connect(config.nats.url, { name: `vapora-agent-${spec.agent_id}`, logger: log });
const connection = await NativeConnection.connect({ address: config.temporal.address });
const worker = await Worker.create({
  connection,
  namespace: config.temporal.namespace,
  taskQueue: agentTaskQueue(spec.agent_id),
  activities: createAgentActivities(spec, meter),
  maxConcurrentActivityTaskExecutions: spec.max_concurrent_tasks,
  shutdownGraceTime: '25s',
});

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
