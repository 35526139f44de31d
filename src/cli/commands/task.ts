import type { Command } from 'commander';
import { z } from 'zod';
import { RegistryClient } from '../../client/registry-client';
import { readableId } from '../../client/readable-id';
import { followTask, submitTask } from '../../client/task-client';
import { webUiLink } from '../../client/web-ui-link';
import { loadConfig } from '../../config';
import { AgentRole, Identifier, parse, TaskPriority, TaskStatus } from '../../domain';
import { TaskSubmission, type TaskOutcome } from '../../contracts/task-input';
import { featureIdOf, taskIdOf } from '../../contracts/workflow-ids';
import { failureMessage } from '../../temporal/failure-message';
import { printJson, progress, table } from '../output';
import { withClient } from '../temporal-client';

/** Seconds as typed: a number, or a duration like 90s, 30m, 2h or 1d. */
const Seconds = z
  .string()
  .regex(/^\d+[smhd]?$/, 'must be seconds or a duration like 90s, 30m, 2h or 1d')
  .transform((d) => Number(d.replace(/[smhd]$/, '')) * ({ s: 1, m: 60, h: 3_600, d: 86_400 }[d.at(-1)!] ?? 1));

export function registerTask(program: Command): void {
  const task = program.command('task').description('tasks: each step of a feature, or a task started on its own');
  task
    .command('submit')
    .description(
      'hand one task to the dispatcher, which assigns it to the best free agent of its role at once; with --wait, follow it to its end',
    )
    .requiredOption('--role <role>', `the role that does it (${AgentRole.options.join(', ')})`)
    .requiredOption('--title <text>', 'what to do')
    .option('--description <text>', 'more about it', '')
    .option('--capability <id>', 'a capability the agent should have (e.g. implement-code)')
    .option('--priority <level>', `${TaskPriority.options.join(', ')}: who gets the next free agent`, 'normal')
    .option('--deadline <duration>', 'time for the work, in seconds or as 90s, 30m, 2h, 1d', '30m')
    .option('--approval', 'a person approves the result before the task completes')
    .option('--id <id>', 'task id; its workflow is task-<id> (default: from the title)')
    .option('--wait', 'follow the task until it ends, or until it waits for a person')
    .option('--json', 'print JSON: the submitted task, then with --wait each status change and the outcome')
    .action(
      async (o: {
        role: string;
        title: string;
        description: string;
        capability?: string;
        priority: string;
        deadline: string;
        approval?: boolean;
        id?: string;
        wait?: boolean;
        json?: boolean;
      }) => {
        const config = loadConfig();
        // Checked here, before anything is submitted: an error names the option as typed.
        const role = parse(AgentRole, o.role, '--role');
        const submission = parse(
          TaskSubmission,
          {
            task_id: o.id ? parse(Identifier, taskIdOf(o.id), '--id') : readableId(o.title, role),
            role,
            title: o.title,
            description: o.description,
            capability: o.capability,
            priority: parse(TaskPriority, o.priority, '--priority'),
            deadline_secs: parse(Seconds, o.deadline, '--deadline'),
            require_approval: o.approval ?? false,
          },
          'task',
        );
        await withClient(config, async (client) => {
          const submitted = await submitTask(client, config.temporal.taskQueue, submission);
          const webUi = webUiLink(config, submitted.workflow_id);
          if (o.json) printJson({ ...submitted, web_ui: webUi });
          else
            console.log(
              `submitted ${submitted.workflow_id} (${submission.role}): ${submission.title}\n  ${
                submitted.agent_id
                  ? `assigned to ${submitted.agent_id}`
                  : `queued for the next free ${submission.role} agent`
              }\n  Web UI  ${webUi}`,
            );
          if (!o.wait) return;
          const outcome = await followTask(client, submitted, (s) =>
            o.json
              ? printJson({ status: s.status, agent_id: s.agent_id, attempts: s.attempts })
              : progress(statusLine(s)),
          ).catch((error: unknown) => {
            throw new Error(`${submitted.workflow_id} failed: ${failureMessage(error)}`, { cause: error });
          });
          if (o.json) printJson(outcome);
          else summarize(outcome, submitted.workflow_id);
          if (outcome.status === 'failed' || outcome.status === 'cancelled') process.exitCode = 1;
        });
      },
    );

  task
    .command('list')
    .description(
      'tasks as the registry keeps them: id, role, status, agent, retries, verdict, the model that answered, title',
    )
    .option('--feature <id>', 'only the tasks of one feature')
    .option('--status <status>', `only tasks in one status (${TaskStatus.options.join(', ')})`)
    .option('--json', 'print the tasks as JSON')
    .action(async (o: { feature?: string; status?: string; json?: boolean }) => {
      const status = o.status === undefined ? undefined : parse(TaskStatus, o.status, '--status');
      const tasks = await RegistryClient.of(loadConfig().api).tasks({
        feature_id: o.feature && featureIdOf(o.feature),
        status,
      });
      tasks.sort((a, b) => a.created_at.localeCompare(b.created_at));
      if (o.json) return printJson(tasks);
      const rows = tasks.map((t) => ({
        id: t.id,
        role: t.role,
        status: t.status,
        agent: t.agent_id,
        retries: t.retry_count,
        verdict: t.result?.verdict,
        llm: t.llm,
        title: t.title.slice(0, 60),
      }));
      console.log(
        rows.length ? table(rows, ['id', 'role', 'status', 'agent', 'retries', 'verdict', 'llm', 'title']) : 'no tasks',
      );
    });
}

/** One line per change of a followed task, for people. */
function statusLine(s: TaskOutcome): string {
  const agent = s.agent_id ? ` on ${s.agent_id}` : '';
  const attempt = s.attempts.length > 0 ? `, ${s.attempts.length} attempt(s) ended` : '';
  const asked = s.pending_approval ? ': waiting for a person to approve or reject' : '';
  return `  ${s.status}${agent}${attempt}${asked}`;
}

function summarize(s: TaskOutcome, workflowId: string): void {
  console.log(`${workflowId}: ${s.title}`);
  console.log(`  status  ${s.status}${s.agent_id ? ` (${s.agent_id})` : ''}${s.error ? `: ${s.error}` : ''}`);
  if (s.result) console.log(`  result  ${s.result.summary}`);
  if (s.result?.commit) console.log(`  commit  ${s.result.commit.slice(0, 10)} (${s.result.files?.join(', ') ?? ''})`);
  console.log(`  cost    $${s.cost_usd.toFixed(4)}, ${s.tokens} tokens, ${s.attempts.length} attempt(s)`);
  if (s.pending_approval)
    console.log(
      `\nwaiting for approval until ${s.pending_approval.deadline}:\n  npx vapora approve ${workflowId}\n  npx vapora reject ${workflowId} --reason "…"`,
    );
}
