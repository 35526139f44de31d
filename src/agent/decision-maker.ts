import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { MessageOf } from '../domain';
import type { AgentSpec } from '../contracts/agent-spec';
import type { LLMRouter } from '../llm/llm-router';
import { readJson, systemPrompt } from './agent-prompt';

const Answer = z.object({ decision: z.string(), reasoning: z.string().default('') });

/**
 * The DecisionMaker agent's answer to a RequestDecision: its LLM chooses
 * among the options; an answer outside them falls back to the first
 * (preferred) option, and says so in the reasoning.
 */
export async function decide(
  spec: AgentSpec,
  router: LLMRouter,
  request: MessageOf<'RequestDecision'>,
): Promise<MessageOf<'DecisionMade'>> {
  const answer = await router.complete(spec.llm_provider, {
    model: spec.llm_model,
    system: systemPrompt('decision-maker'),
    prompt: `Task: decide on ${request.decision_type} for ${request.from_agent}\nContext: ${request.context}\nOptions: ${request.options.join(', ')}`,
    maxTokens: 1024,
  });
  const parsed = Answer.safeParse(readJson(answer.text));
  const valid = parsed.success && request.options.includes(parsed.data.decision);
  return {
    type: 'DecisionMade',
    decision_id: randomUUID(),
    decision: valid ? parsed.data.decision : request.options[0]!,
    reasoning: valid
      ? parsed.data.reasoning
      : `the answer was not one of the options; took the preferred one (${request.options[0]})`,
    made_by: spec.agent_id,
  };
}
