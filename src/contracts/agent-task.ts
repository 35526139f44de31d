import { z } from 'zod';
import { TaskContext, type TaskResult } from '../domain';

/** What the task workflow hands an agent's executeTask activity, and what comes back. */
export const AgentTaskInput = z.object({ task: TaskContext, attempt: z.number().int().min(1) });
export type AgentTaskInput = z.input<typeof AgentTaskInput>;

export interface LLMUsage {
  provider: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  fallbacks: string[];
  /** Who answered, for people: says so when the offline model stood in for the manifest's (see describeModel). */
  answered_by: string;
}

/** What comes back through workflow history: a summary, references to artifacts, usage; never the artifacts themselves. */
export interface AgentTaskOutput {
  result: TaskResult;
  usage: LLMUsage;
  duration_ms: number;
}
