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

/** One call of the task's tool loop: the `step`th LLM call, or a tool call it asked for. */
export const ModelCallInput = AgentTaskInput.extend({
  step: z.number().int().min(1),
  /** What this and the task's later LLM calls may cost (its budget less what earlier calls spent): once spent, the task ends with the answer it has. */
  budget_usd: z.number().min(0).optional(),
});
export type ModelCallInput = z.input<typeof ModelCallInput>;
export const ToolCallInput = AgentTaskInput.extend({ step: z.number().int().min(1), call_id: z.string().min(1) });
export type ToolCallInput = z.input<typeof ToolCallInput>;

/** A tool call the model asked for, as history shows it: the arguments in short (they are stored in full). */
export interface ToolCallRequest {
  id: string;
  name: string;
  summary: string;
}

/** The tool calls to make next, or the task's output when the model is done (or the steps or budget are). */
export type ModelCallOutput = { tool_calls: ToolCallRequest[]; usage: LLMUsage } | { output: AgentTaskOutput };

export interface ToolCallOutput {
  ok: boolean;
  /** The start of the result; the whole result is an artifact the next LLM call reads. */
  summary: string;
}

/** What comes back through workflow history: a summary, references to artifacts, usage; never the artifacts themselves. */
export interface AgentTaskOutput {
  result: TaskResult;
  usage: LLMUsage;
  duration_ms: number;
}
