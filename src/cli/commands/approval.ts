import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { loadConfig } from '../../config';
import { parse } from '../../domain';
import { failureMessage } from '../../temporal/failure-message';
import { ApprovePayload, RejectPayload, type ApprovalRecord } from '../../contracts/approval';
import { approveUpdate, rejectUpdate } from '../../contracts/messages';
import { printJson } from '../output';
import { withClient } from '../temporal-client';
import { gatedWorkflowId } from '../../contracts/workflow-ids';

const me = () => process.env.USER ?? userInfo().username;

export function registerApproval(program: Command): void {
  program
    .command('approve <id>')
    .description('approve what a feature (or task) waits for: `feature-<id>`, `<id>` or `task-<id>`')
    .option('--by <name>', 'who approves', me())
    .option('--comment <text>', 'a comment kept with the approval', '')
    .option('--json', 'print the outcome as JSON')
    .action(async (id: string, o: { by: string; comment: string; json?: boolean }) => {
      const payload = parse(ApprovePayload, { by: o.by, comment: o.comment }, 'approval');
      await send(gatedWorkflowId(id), o.json, (handle) => handle.executeUpdate(approveUpdate, { args: [payload] }));
    });

  program
    .command('reject <id>')
    .description('reject what a feature (or task) waits for; a feature goes back to development with the reason')
    .requiredOption('--reason <text>', 'what must change')
    .option('--by <name>', 'who rejects', me())
    .option('--json', 'print the outcome as JSON')
    .action(async (id: string, o: { by: string; reason: string; json?: boolean }) => {
      const payload = parse(RejectPayload, { by: o.by, reason: o.reason }, 'rejection');
      await send(gatedWorkflowId(id), o.json, (handle) => handle.executeUpdate(rejectUpdate, { args: [payload] }));
    });
}

/** Sends the Update and says what the workflow answered: applied, or ignored and why. */
async function send(
  workflowId: string,
  json: boolean | undefined,
  update: (handle: WorkflowHandle) => Promise<ApprovalRecord>,
): Promise<void> {
  const outcome = await withClient(loadConfig(), async (client) => {
    const handle = client.workflow.getHandle(workflowId);
    try {
      return await update(handle);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw new Error(failureMessage(error), { cause: error });
      // Not found means no running workflow: either there never was one, or it has ended.
      const ended = await handle.describe().then(
        () => true,
        () => false,
      );
      throw new Error(
        ended
          ? `${workflowId} has already finished: nothing to approve`
          : `no workflow ${workflowId} (vapora feature list)`,
        { cause: error },
      );
    }
  });
  if (json) printJson({ workflowId, outcome });
  else if (outcome.applied)
    console.log(`${outcome.kind === 'approve' ? 'approved' : 'rejected'} ${workflowId} (by ${outcome.by})`);
  if (!outcome.applied) {
    if (!json) console.error(`${workflowId} received the ${outcome.kind} but ignored it: ${outcome.ignored}`);
    process.exitCode = 1;
  }
}
