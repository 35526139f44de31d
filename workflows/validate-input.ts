import { ActivityFailure, ApplicationFailure, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { dispatched } from '../src/contracts/dispatched';
import type { ParsedWorkflowInput, WorkflowWithInput } from '../src/contracts/workflow-inputs';
import { applies } from './patches';

// Parsing happens in the worker, where zod is loaded once: zod cannot be preloaded into the reusable V8 context
// (see src/temporal/workflow-bundle.ts), so a run that loaded it would evaluate it afresh, at more than the cost of a
// task's assignment.
const { parseWorkflowInput } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s' });

/** A workflow's input, parsed; invalid input fails the workflow at once, non-retryable, naming each bad field. */
export async function validateInput<W extends WorkflowWithInput>(
  workflow: W,
  raw: unknown,
): Promise<ParsedWorkflowInput<W>> {
  // Parsed by the dispatcher that started it (runs without its memo, begun before or by hand, parse as they did).
  if (dispatched(workflowInfo().memo)) return raw as ParsedWorkflowInput<W>;
  // Runs that began before parsing moved into the worker replay as they ran: parsed here.
  if (!applies('input-parsed-in-worker'))
    return (await import(/* webpackMode: "eager" */ '../src/contracts/workflow-inputs')).parseWorkflowInput(
      workflow,
      raw,
    );
  try {
    return (await parseWorkflowInput(workflow, raw)) as ParsedWorkflowInput<W>;
  } catch (error) {
    throw error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause : error;
  }
}

/**
 * The schemas signal handlers and update validators use in the workflow
 * itself (they cannot await an activity). Zod cannot be preloaded with the
 * workflows (see src/temporal/workflow-bundle.ts), so they are evaluated on
 * first use, by the runs that use them only.
 */
export const loadSchemas = () => import(/* webpackMode: "eager" */ './schemas');
