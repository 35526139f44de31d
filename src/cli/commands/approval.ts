import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { parse } from '../../domain';
import { ApprovePayload, RejectPayload } from '../../contracts/approval';
import { sendVerdict, type Verdict } from '../../client/approval-client';
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
      await send(gatedWorkflowId(id), o.json, { approve: payload });
    });

  program
    .command('reject <id>')
    .description('reject what a feature (or task) waits for; a feature goes back to development with the reason')
    .requiredOption('--reason <text>', 'what must change')
    .option('--by <name>', 'who rejects', me())
    .option('--json', 'print the outcome as JSON')
    .action(async (id: string, o: { by: string; reason: string; json?: boolean }) => {
      const payload = parse(RejectPayload, { by: o.by, reason: o.reason }, 'rejection');
      await send(gatedWorkflowId(id), o.json, { reject: payload });
    });
}

/** Sends the Update and says what the workflow answered: applied, or ignored and why. */
async function send(workflowId: string, json: boolean | undefined, verdict: Verdict): Promise<void> {
  const outcome = await withClient(loadConfig(), (client) => sendVerdict(client, workflowId, verdict));
  if (json) printJson({ workflowId, outcome });
  else if (outcome.applied)
    console.log(`${outcome.kind === 'approve' ? 'approved' : 'rejected'} ${workflowId} (by ${outcome.by})`);
  if (!outcome.applied) {
    if (!json) console.error(`${workflowId} received the ${outcome.kind} but ignored it: ${outcome.ignored}`);
    process.exitCode = 1;
  }
}
