import type { StoredEvent } from '../bus/event-bus';
import type { AgentMessage } from '../domain';

/** One task event as a line a person reads: time, what happened, to which step. */
export function eventLine({ time, message: m }: StoredEvent, stripPrefix = ''): string {
  const at = time.toISOString().slice(11, 19);
  const task = 'task_id' in m ? m.task_id.slice(stripPrefix.length) : '';
  const what = (() => {
    switch (m.type) {
      case 'TaskAssigned':
        return `assigned to ${m.agent_id}`;
      case 'TaskStarted':
        return `started on ${m.agent_id}`;
      case 'TaskProgress':
        return `${String(m.progress_percent).padStart(3)}% ${m.current_step}`;
      case 'TaskCompleted':
        return `completed by ${m.agent_id} in ${m.duration_ms} ms, ${m.tokens_used} tokens${m.result.verdict ? `, verdict ${m.result.verdict}` : ''}: ${m.result.summary.slice(0, 80)}`;
      case 'TaskFailed':
        return `failed on ${m.agent_id} (retry ${m.retry_count}): ${m.error}`;
      case 'DecisionMade':
        return `decision ${m.decision_id}: ${m.decision} by ${m.made_by} (${m.reasoning.slice(0, 100)})`;
      default:
        return m.type;
    }
  })();
  return `${at}  ${task.padEnd(14)} ${what}`;
}

/** Whether an event belongs to the feature or task `id` (task ids and decision ids start with it). */
export function eventOf(m: AgentMessage, id: string): boolean {
  const key = 'task_id' in m ? m.task_id : m.type === 'DecisionMade' ? m.decision_id : undefined;
  return key !== undefined && (key === id || key.startsWith(`${id}-`));
}
