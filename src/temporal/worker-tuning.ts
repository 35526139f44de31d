import type { WorkerOptions } from '@temporalio/worker';

/**
 * The control-plane worker runs many short workflow tasks (assignment is a
 * local activity inside one): keep histories cached so a task's next step
 * needs no replay, and let enough workflow tasks and local activities run at once.
 */
export const WORKER_TUNING = {
  maxCachedWorkflows: 2_000,
  // Each workflow task this worker takes has 10 s to finish, and they share one workflow thread: a control plane
  // that restarts under load replays hundreds of histories, and with 100 at once the last ones timed out,
  // each timeout retried later by the server. Those it has not taken wait on the server, with no clock running.
  maxConcurrentWorkflowTaskExecutions: 20,
  // No time limit per call into the workflow sandbox: Node enforces one by starting and joining a watchdog thread
  // for every call, a few per activation: half of what the workflow thread was busy with. The
  // limit only catches a workflow stuck in a synchronous loop; Vapora runs its own workflows alone, and every
  // loop in them awaits. Honoured through patches/@temporalio+worker+1.24.0.patch (0 means none); unpatched,
  // Node refuses 0 at every call and no workflow runs, so every test of the control plane checks the patch.
  isolateExecutionTimeout: 0,
  // No stack trace captured at every promise a workflow creates, for the Web UI's "Stack Trace" tab: a tenth of the
  // control plane's CPU per task (VAPORA_WORKFLOW_STACK_TRACES=true turns it back on, to look at a stuck workflow).
  // Also patches/@temporalio+worker+1.24.0.patch.
  workflowStackTraces: false,
  maxConcurrentLocalActivityExecutions: 200,
  // Each agent has one long-running health-watch activity, mostly asleep: a fleet of 1000 needs 1000 slots.
  maxConcurrentActivityTaskExecutions: 5_000,
} satisfies Partial<WorkerOptions>;
