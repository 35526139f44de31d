import type { Command } from 'commander';
import { RegistryClient } from '../../client/registry-client';
import { loadConfig } from '../../config';
import { parse, TaskStatus } from '../../domain';
import { featureIdOf } from '../../contracts/workflow-ids';
import { printJson, table } from '../output';

export function registerTask(program: Command): void {
  const task = program.command('task').description('tasks: each step of a feature, or a task started on its own');
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
