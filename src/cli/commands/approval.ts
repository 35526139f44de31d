import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../../config';
import { parse } from '../../domain';
import { failureMessage } from '../../temporal/failure-message';
import { ApprovePayload, RejectPayload, type ApprovalSignal } from '../../contracts/approval';
import { approveSignal, featureStatusQuery, rejectSignal, taskStatusQuery } from '../../contracts/messages';
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
      await send(gatedWorkflowId(id), o.json, (client, workflowId) =>
        client.workflow.getHandle(workflowId).signal(approveSignal, payload),
      );
    });

  program
    .command('reject <id>')
    .description('reject what a feature (or task) waits for; a feature goes back to development with the reason')
    .requiredOption('--reason <text>', 'what must change')
    .option('--by <name>', 'who rejects', me())
    .option('--json', 'print the outcome as JSON')
    .action(async (id: string, o: { by: string; reason: string; json?: boolean }) => {
      const payload = parse(RejectPayload, { by: o.by, reason: o.reason }, 'rejection');
      await send(gatedWorkflowId(id), o.json, (client, workflowId) =>
        client.workflow.getHandle(workflowId).signal(rejectSignal, payload),
      );
    });
}

/** Sends the signal, then reads the workflow's record of it: a signal nobody waited for is said to be ignored, with why. */
async function send(
  workflowId: string,
  json: boolean | undefined,
  signal: (client: Client, workflowId: string) => Promise<void>,
): Promise<void> {
  const outcome = await withClient(loadConfig(), async (client) => {
    const handle = client.workflow.getHandle(workflowId);
    const query = (): Promise<ApprovalSignal[]> =>
      workflowId.startsWith('task-')
        ? handle.query(taskStatusQuery).then((s) => s.approvals ?? [])
        : handle.query(featureStatusQuery).then((s) => s.approvals);
    const before = await query().catch((e: unknown) => {
      throw new Error(
        /not found/i.test(failureMessage(e)) ? `no workflow ${workflowId} (vapora feature list)` : failureMessage(e),
      );
    });
    await signal(client, workflowId).catch((e: unknown) => {
      throw new Error(
        /completed|not found/i.test(failureMessage(e))
          ? `${workflowId} has already finished: nothing to approve`
          : failureMessage(e),
      );
    });
    for (let i = 0; i < 20; i++) {
      const after = await query();
      if (after.length > before.length) return after.at(-1)!;
      await new Promise((r) => setTimeout(r, 150));
    }
    return undefined;
  });
  if (json) return printJson({ workflowId, signal: outcome ?? 'sent' });
  if (!outcome) console.log(`signal sent to ${workflowId}`);
  else if (outcome.applied)
    console.log(`${outcome.kind === 'approve' ? 'approved' : 'rejected'} ${workflowId} (by ${outcome.by})`);
  else {
    console.error(`${workflowId} received the ${outcome.kind} but ignored it: ${outcome.ignored}`);
    process.exitCode = 1;
  }
}
