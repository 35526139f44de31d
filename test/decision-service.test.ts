import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventBus } from '../src/bus/event-bus';
import { DecisionService, type DecisionRequest } from '../src/control-plane/decision-service';
import { SUBJECTS } from '../src/domain';
import { RegistryStore } from '../src/registry/registry-store';
import { recordingLogger } from './support/recording-logger';
import { testServers, unique } from './support/servers';

const { natsUrl } = testServers();

const request = (): DecisionRequest => ({
  id: unique('decision'),
  decision_type: 'no_agent',
  context: 'no healthy developer agent with spare capacity for 120s',
  options: ['retry', 'ask_human', 'abort'],
  from: 'task-x',
});

describe('escalation while the DecisionMaker restarts (found by the chaos run)', () => {
  let bus: EventBus;
  let registry: RegistryStore;
  const log = recordingLogger();
  before(async () => {
    bus = await EventBus.connect(natsUrl, { logger: log });
    registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'test' });
  });
  after(async () => {
    await bus.close();
    await registry.close();
  });

  it('asks again until a DecisionMaker subscribes, instead of handing the decision to a person at once', async () => {
    const service = new DecisionService(registry, bus, log, 30_000);
    const deciding = service.decide(request());
    // Nobody subscribes to the subject for a while: NATS answers each request with "no responders".
    await sleep(2_500);
    const replier = bus.reply(SUBJECTS.RequestDecision, async (m) =>
      m.type === 'RequestDecision'
        ? {
            type: 'DecisionMade',
            decision_id: 'd',
            decision: m.options[0]!,
            reasoning: 'back',
            made_by: 'decision-maker-001',
          }
        : undefined,
    );
    try {
      const decision = await deciding;
      assert.equal(decision.decision, 'retry');
      assert.equal(decision.made_by, 'decision-maker-001');
    } finally {
      replier.unsubscribe();
    }
  });

  it('takes the most conservative option when none comes back in time', async () => {
    const decision = await new DecisionService(registry, bus, log, 2_500).decide(request());
    assert.equal(decision.decision, 'ask_human');
    assert.equal(decision.made_by, 'vapora');
    assert.ok(log.lines.some((l) => l.startsWith('warn no DecisionMaker answered')));
  });
});
