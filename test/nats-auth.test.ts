import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config';
import { connect } from 'nats';
import { EventBus } from '../src/bus/event-bus';
import { NatsKeys, type NatsIdentity } from '../src/bus/nats-credentials';
import { SUBJECTS, subjectsOf, type AgentMessage } from '../src/domain';
import { freePort } from '../src/host/ports';
import { findNatsServer, startNatsServer } from '../src/stack/nats-server';
import type { SupervisedProcess } from '../src/stack/supervised-process';
import { eventually } from './support/fleet';
import { recordingLogger } from './support/recording-logger';
import { tempDir, unique } from './support/servers';
import { makeCertificates } from './support/certificates';

const now = () => new Date().toISOString();

describe('NATS with the credentials vapora up issues (real nats-server, operator mode)', () => {
  const stateDir = tempDir('nats-auth');
  let server: SupervisedProcess;
  let url: string;
  let keys: NatsKeys;
  const open: EventBus[] = [];
  /** A bus connected with the credentials `who` is issued, and what it logged. */
  const as = async (who: NatsIdentity) => {
    const log = recordingLogger();
    const credsFile = await keys.issue(who);
    const bus = await EventBus.connect(
      { url, external: true, credsFile },
      { logger: log, manageStreams: who.kind === 'control-plane' },
    );
    open.push(bus);
    return { bus, log };
  };

  before(async () => {
    keys = NatsKeys.ensure(stateDir);
    const port = await freePort();
    url = `nats://127.0.0.1:${port}`;
    server = await startNatsServer({
      bin: findNatsServer()!.path,
      host: '127.0.0.1',
      port,
      storeDir: join(stateDir, 'nats'),
      logFile: join(stateDir, 'nats.log'),
      configFile: await keys.serverConfig(),
    });
  });
  after(async () => {
    await Promise.all(open.map((b) => b.close()));
    await server?.stop();
  });

  it('refuses a client without credentials', async () => {
    await assert.rejects(connect({ servers: url, reconnect: false }), /Authorization Violation/);
  });

  it('lets an agent publish in its own name only: a forged heartbeat and a forged task event are refused', async () => {
    const { bus: plane } = await as({ kind: 'control-plane' });
    const { bus: agent, log } = await as({ kind: 'agent', agentId: 'architect-001', decides: false });
    const heard: AgentMessage[] = [];
    plane.subscribe(subjectsOf('Heartbeat'), (m) => void heard.push(m));
    await plane.flush();
    await agent.publish({ type: 'Heartbeat', agent_id: 'developer-001', status: 'Active', load: 0 });
    await agent.publish({ type: 'Heartbeat', agent_id: 'architect-001', status: 'Active', load: 0.5 });
    await eventually('its own heartbeat', async () => heard.length > 0, 5000, 20);
    await plane.flush();
    assert.deepEqual(
      heard.map((m) => m.type === 'Heartbeat' && m.agent_id),
      ['architect-001'],
    );
    await eventually(
      'the refusal logged',
      async () =>
        log.lines.some((l) => l.includes('nats refused') && l.includes('vapora.agent.heartbeat.developer-001')),
      5000,
      20,
    );

    // Its own task events are stored; one only the control plane publishes is not.
    const taskId = unique('task');
    const started = await agent.publish(
      { type: 'TaskStarted', task_id: taskId, agent_id: 'architect-001', timestamp: now() },
      `${taskId}/started/1`,
    );
    assert.equal(started.duplicate, false);
    await assert.rejects(
      agent.publish(
        { type: 'TaskFailed', task_id: taskId, agent_id: 'architect-001', error: 'forged', retry_count: 0 },
        `${taskId}/failed/1`,
      ),
    );
    assert.equal(await plane.storedCount(`${SUBJECTS.TaskFailed}`), 0);
  });

  it('lets only the DecisionMaker hear and answer a decision', async () => {
    const { bus: plane } = await as({ kind: 'control-plane' });
    const { bus: pretender, log } = await as({ kind: 'agent', agentId: 'developer-002', decides: false });
    const request: AgentMessage = {
      type: 'RequestDecision',
      from_agent: 'developer-002',
      decision_type: 'retry',
      context: 'the build failed',
      options: ['retry', 'abort'],
    };
    const answer = (agentId: string, decision: string) => async (): Promise<AgentMessage> => ({
      type: 'DecisionMade',
      decision_id: 'd1',
      decision,
      reasoning: `${agentId} chose`,
      made_by: agentId,
    });
    pretender.reply(SUBJECTS.RequestDecision, answer('developer-002', 'abort'));
    await eventually(
      'the refusal logged',
      async () => log.lines.some((l) => l.includes('nats refused') && l.includes(SUBJECTS.RequestDecision)),
      5000,
      20,
    );
    // Nobody may answer but a DecisionMaker; with none, nobody does.
    await assert.rejects(plane.request(request, { timeoutMs: 1000 }), /503|no responders|TIMEOUT/i);

    const { bus: decider } = await as({ kind: 'agent', agentId: 'decision-maker-001', decides: true });
    decider.reply(SUBJECTS.RequestDecision, answer('decision-maker-001', 'retry'));
    await decider.flush();
    for (let i = 0; i < 3; i++) {
      const reply = await plane.request(request, { timeoutMs: 2000 });
      assert.equal(reply.type === 'DecisionMade' && reply.made_by, 'decision-maker-001');
    }
  });

  it('lets the CLI read the task stream but not publish task events', async () => {
    const { bus: cli } = await as({ kind: 'cli' });
    const { bus: plane } = await as({ kind: 'control-plane' });
    const taskId = unique('task');
    await plane.publish(
      { type: 'TaskFailed', task_id: taskId, agent_id: 'tester-001', error: 'x', retry_count: 0 },
      taskId,
    );
    const seen: string[] = [];
    for await (const e of cli.events()) if ('task_id' in e.message) seen.push(e.message.task_id);
    assert.ok(seen.includes(taskId));
    await assert.rejects(
      cli.publish(
        { type: 'TaskFailed', task_id: taskId, agent_id: 'tester-001', error: 'forged', retry_count: 1 },
        `${taskId}/2`,
      ),
    );
  });

  it('connects over TLS to a server whose CA NATS_CA names, with NATS_CREDS, as configured by environment', async () => {
    const dir = tempDir('nats-tls');
    const certs = await makeCertificates(dir);
    const port = await freePort();
    const configFile = join(dir, 'tls.conf');
    writeFileSync(
      configFile,
      `${readFileSync(await keys.serverConfig(), 'utf8')}tls { cert_file: "${certs.server.cert}", key_file: "${certs.server.key}" }\n`,
    );
    const tls = await startNatsServer({
      bin: findNatsServer()!.path,
      host: '127.0.0.1',
      port,
      storeDir: join(dir, 'store'),
      logFile: join(dir, 'nats.log'),
      configFile,
    });
    try {
      const env = {
        VAPORA_STATE_DIR: dir,
        NATS_URL: `tls://127.0.0.1:${port}`,
        NATS_CREDS: await keys.issue({ kind: 'control-plane' }),
      };
      const { nats } = loadConfig({ ...env, NATS_CA: certs.ca });
      const bus = await EventBus.connect(nats, { logger: recordingLogger() });
      const taskId = unique('task');
      await bus.publish(
        { type: 'TaskFailed', task_id: taskId, agent_id: 'tester-001', error: 'x', retry_count: 0 },
        taskId,
      );
      assert.equal(await bus.storedCount(SUBJECTS.TaskFailed), 1);
      await bus.close();
      // Without the CA the server's certificate is not trusted.
      await assert.rejects(EventBus.connect({ ...loadConfig(env).nats }, { logger: recordingLogger() }));
    } finally {
      await tls.stop();
    }
  });
});
