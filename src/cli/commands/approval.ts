import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../../config';
import { parse } from '../../domain';
import { ApprovePayload, RejectPayload } from '../../contracts/approval';
import { approverLabel, sendVerdict, type Verdict } from '../../client/approval-client';
import { signerOf } from '../../control-plane/api-auth';
import { printJson, progress } from '../output';
import { withClient } from '../temporal-client';
import { gatedWorkflowId } from '../../contracts/workflow-ids';

const me = () => process.env.USER ?? userInfo().username;
const BY_HELP =
  "who it is by: with a person's token (VAPORA_TOKEN) that person, and only them; with the operator's, a name shown beside it (default: your login)";

/**
 * Who the approval is by: with a person's token (VAPORA_TOKEN), that person,
 * and `--by` must name them; with the operator's, `--by` (or the login name)
 * is shown beside the verified signer `operator`.
 */
function approver(token: string | undefined, by: string | undefined): string {
  const signer = token && signerOf(token);
  if (!signer || signer === 'operator') return by ?? me();
  if (by !== undefined && by !== signer)
    throw new Error(
      `--by ${by} is not ${signer}, whose token (VAPORA_TOKEN) signs this: leave --by out or give ${signer}`,
    );
  return signer;
}

export function registerApproval(program: Command): void {
  program
    .command('approve <id>')
    .description('approve what a feature (or task) waits for: `feature-<id>`, `<id>` or `task-<id>`')
    .option('--by <name>', BY_HELP)
    .option('--comment <text>', 'a comment kept with the approval', '')
    .option('--json', 'print the outcome as JSON')
    .action(async (id: string, o: { by?: string; comment: string; json?: boolean }) => {
      const config = loadConfig();
      const by = approver(config.api.token, o.by);
      const payload = parse(ApprovePayload, { by, comment: o.comment }, 'approval');
      await send(config, gatedWorkflowId(id), o.json, { approve: payload });
    });

  program
    .command('reject <id>')
    .description('reject what a feature (or task) waits for; a feature goes back to development with the reason')
    .requiredOption('--reason <text>', 'what must change')
    .option('--by <name>', BY_HELP)
    .option('--json', 'print the outcome as JSON')
    .action(async (id: string, o: { by?: string; reason: string; json?: boolean }) => {
      const config = loadConfig();
      const by = approver(config.api.token, o.by);
      const payload = parse(RejectPayload, { by, reason: o.reason }, 'rejection');
      await send(config, gatedWorkflowId(id), o.json, { reject: payload });
    });
}

/** Sends the Update, signed with the CLI's token, and says what the workflow answered: applied, or ignored and why. */
async function send(config: Config, workflowId: string, json: boolean | undefined, verdict: Verdict): Promise<void> {
  const token = config.api.token && signerOf(config.api.token) ? config.api.token : undefined;
  if (!token)
    progress('no operator or person token (VAPORA_TOKEN) to sign with: sent unsigned, recorded as unverified');
  const outcome = await withClient(config, (client) => sendVerdict(client, workflowId, verdict, token));
  if (json) printJson({ workflowId, outcome });
  else if (outcome.applied)
    console.log(`${outcome.kind === 'approve' ? 'approved' : 'rejected'} ${workflowId} (by ${approverLabel(outcome)})`);
  if (!outcome.applied) {
    if (!json) console.error(`${workflowId} received the ${outcome.kind} but ignored it: ${outcome.ignored}`);
    process.exitCode = 1;
  }
}
