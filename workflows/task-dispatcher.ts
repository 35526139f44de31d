import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  proxyLocalActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Dispatched } from '../activities/work';
import { describeIssues } from '../src/domain/validation';
import type { TaskInput } from '../src/contracts/task-input';
import { dispatchTaskQueue } from '../src/contracts/task-queues';
import { submitTaskUpdate } from '../src/contracts/messages';
import { taskWorkflow } from './task';
import { loadSchemas } from './validate-input';
import { BUSINESS_IDS_IN_INPUTS, taskWorkflowId } from '../src/contracts/workflow-ids';
import { taskContextOf, taskSummary } from '../src/contracts/task-context';
import { applies } from './patches';

const { assignTask, dispatchTask } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '5s',
  retry: { maximumInterval: '2s' },
});
// Runs begun before started each task as a child (whose start and end each woke the dispatcher): as they ran.
const STARTED_BY_ACTIVITY = 'dispatcher-starts-tasks-by-activity';

/** Tasks per run before continuing as new, so history stays small. */
const TASKS_PER_RUN = 500;

/**
 * The fast way in for tasks: a long-lived workflow that takes each task by
 * Update. A running, cached workflow answers an Update in a few milliseconds,
 * where starting a workflow first waits for the server to dispatch its first
 * workflow task; so the assignment (a local activity that picks the agent
 * from memory and publishes TaskAssigned) happens here, and the same local
 * activity then starts the task's own workflow with the agent already chosen.
 */
export async function taskDispatcherWorkflow(options?: { taskQueue: string }): Promise<void> {
  // Runs from before the dispatchers had a queue of their own (and no argument) served the tasks' queue.
  const taskQueue = options?.taskQueue ?? workflowInfo().taskQueue;
  // Once per run, in its first activation: the handler below is set before any update is looked at.
  const { TaskSubmission } = await loadSchemas();
  const seen = new Set<string>();
  setHandler(
    submitTaskUpdate,
    async (raw) => {
      const submission = TaskSubmission.parse(raw);
      const { task_id, ...input } = submission;
      const deadline = new Date(Date.now() + input.deadline_secs * 1000).toISOString();
      const task = taskContextOf(task_id, input);
      // Timed from when this workflow took the update: the submission, as the workflow's clock knows it.
      const submitted_at = new Date().toISOString();
      const assignment = { task, attempt: 1, exclude: [], deadline, submitted_at, queued_since: submitted_at };
      const workflowId = taskWorkflowId(task_id);
      if (applies(STARTED_BY_ACTIVITY)) {
        const args = { ...input, task_id };
        const ran: Dispatched | string | null = await dispatchTask({ assignment, taskQueue, args });
        // Runs begun before had the agent back alone: a local activity's result replays as it was recorded.
        const { agent_id, run_id } = typeof ran === 'object' && ran ? ran : { agent_id: ran, run_id: undefined };
        return { task_id, workflow_id: workflowId, agent_id, run_id };
      }
      const agentId = await assignTask(assignment);
      const args: TaskInput = {
        ...input,
        // Runs begun before inputs carried their ids start their tasks as they did.
        ...(applies(BUSINESS_IDS_IN_INPUTS) && { task_id }),
        ...(agentId && { assigned_agent: agentId }),
      };
      // TaskAssigned is already on NATS; the answer waits for the task's workflow to exist.
      await startChild(taskWorkflow, {
        workflowId,
        taskQueue,
        args: [args],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: taskSummary(input),
      });
      return { task_id, workflow_id: workflowId, agent_id: agentId };
    },
    {
      // Invalid submissions are refused before they reach history, naming each bad field.
      validator: (raw) => {
        const parsed = TaskSubmission.safeParse(raw, { reportInput: true });
        if (!parsed.success)
          throw ApplicationFailure.nonRetryable(
            `invalid task: ${describeIssues(parsed.error, 'task').join('; ')}`,
            'InvalidInput',
          );
        if (seen.has(parsed.data.task_id))
          throw ApplicationFailure.nonRetryable(`task ${parsed.data.task_id} was already submitted`, 'DuplicateTask');
        seen.add(parsed.data.task_id);
      },
    },
  );
  await condition(() => seen.size >= TASKS_PER_RUN && allHandlersFinished());
  await makeContinueAsNewFunc<typeof taskDispatcherWorkflow>({
    taskQueue: dispatchTaskQueue(taskQueue),
    memo: workflowInfo().memo,
  })({
    taskQueue,
  });
}
