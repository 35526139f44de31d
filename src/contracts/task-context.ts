import type { TaskContext } from '../domain';
import type { ParsedTaskInput } from './task-input';

/** What an agent is given of a task: its id and the parts of its input that describe the work (no zod: workflows call it). */
export const taskContextOf = (task_id: string, input: ParsedTaskInput): TaskContext => ({
  task_id,
  feature_id: input.feature_id,
  role: input.role,
  capability: input.capability,
  title: input.title,
  description: input.description,
  priority: input.priority,
  inputs: input.inputs,
  workspace: input.workspace,
});

/** The line the Web UI shows for a task's workflow. */
export const taskSummary = ({ role, title }: { role: string; title: string }) => `${role}: ${title}`.slice(0, 200);
