import { z } from 'zod';
import { Identifier, parse, type Decision } from '../domain';
import type { EventBus } from '../bus/event-bus';
import { retry, whileDown } from '../host/retry';
import type { Logger } from '../logger';
import type { RegistryStore } from '../registry/registry-store';

/** What a workflow escalates: the options listed by preference, so the DecisionMaker sees the sensible one first. */
export const DecisionRequest = z.object({
  id: Identifier,
  decision_type: z.enum([
    'task_failed',
    'deadline_missed',
    'no_agent',
    'review_rounds_exhausted',
    'security_block',
    'budget_exceeded',
    'approval_timeout',
  ]),
  context: z.string(),
  options: z.array(z.string().min(1)).min(1),
  from: z.string().min(1),
  task_id: Identifier.optional(),
  feature_id: Identifier.optional(),
});
export type DecisionRequest = z.infer<typeof DecisionRequest>;

/** NATS answers 503 to a request when nobody subscribes to its subject. */
const noResponders = (error: unknown) => (error as { code?: unknown } | undefined)?.code === '503';

/**
 * Escalation to the DecisionMaker agent: RequestDecision over request/reply
 * on `vapora.agent.decision`, the answer stored in the registry and published
 * as DecisionMade once. Idempotent by request id, so a retried activity
 * returns the decision already made.
 */
export class DecisionService {
  constructor(
    private readonly registry: RegistryStore,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly timeoutMs = 60_000,
  ) {}

  async decide(input: DecisionRequest): Promise<Decision> {
    const request = parse(DecisionRequest, input, 'decision request');
    const decision =
      (await this.registry.decisions.get(request.id)) ??
      (await this.registry.decisions.put({ ...(await this.ask(request)), created_at: new Date().toISOString() }));
    await this.bus.publish(
      {
        type: 'DecisionMade',
        decision_id: decision.id,
        decision: decision.decision,
        reasoning: decision.reasoning,
        made_by: decision.made_by,
      },
      `decision/${decision.id}`,
    );
    return decision;
  }

  private async ask(request: DecisionRequest): Promise<Omit<Decision, 'created_at'>> {
    const base = {
      id: request.id,
      decision_type: request.decision_type,
      context: request.context,
      options: request.options,
      task_id: request.task_id,
      feature_id: request.feature_id,
    };
    const until = Date.now() + this.timeoutMs;
    const ask = () =>
      this.bus.request(
        {
          type: 'RequestDecision',
          from_agent: request.from,
          decision_type: request.decision_type,
          context: request.context,
          options: request.options,
        },
        { timeoutMs: Math.max(until - Date.now(), 1) },
      );
    try {
      // Nobody subscribed is a DecisionMaker restarting (seconds): ask again until the time is up, rather than
      // hand at once to a person what it would have decided (the chaos run sent 139 such decisions to a person).
      const reply = await retry(ask, whileDown(this.timeoutMs, noResponders));
      if (reply.type === 'DecisionMade' && request.options.includes(reply.decision)) {
        return { ...base, decision: reply.decision, reasoning: reply.reasoning, made_by: reply.made_by };
      }
      this.log.warn('DecisionMaker answered outside the options', {
        id: request.id,
        reply: reply.type === 'DecisionMade' ? reply.decision : reply.type,
      });
    } catch (error) {
      this.log.warn('no DecisionMaker answered', { id: request.id, error: (error as Error).message });
    }
    // Nobody to decide: the most conservative option, a person if one may be asked.
    const decision = request.options.includes('ask_human') ? 'ask_human' : request.options.at(-1)!;
    return {
      ...base,
      decision,
      reasoning: 'no DecisionMaker agent answered in time; the most conservative option was taken',
      made_by: 'vapora',
    };
  }
}
