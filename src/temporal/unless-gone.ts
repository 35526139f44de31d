import { WorkflowNotFoundError } from '@temporalio/client';

/** For a signal's rejection: a workflow that has ended needs no signal; anything else is rethrown. */
export function unlessGone(error: unknown): void {
  if (!(error instanceof WorkflowNotFoundError)) throw error;
}
