import type { Command } from 'commander';
import { RegistryClient } from '../../client/registry-client';
import { loadConfig } from '../../config';
import { featureIdOf } from '../../contracts/workflow-ids';
import { printJson, table } from '../output';
import { z } from 'zod';
import { parse } from '../../domain';

const Count = z.coerce.number().int().min(1).max(50);

/** `vapora context` and `vapora artifact`: what the agents wrote and shared, for the person at the gate. */
export function registerContext(program: Command): void {
  program
    .command('context')
    .description('the shared context of the agents: artifacts and knowledge, searched by meaning of words (BM25)')
    .command('search <query>')
    .description('the passages that answer <query> best, each with its source (artifact:<id> or knowledge:<key>)')
    .option('--feature <id>', 'only what one feature wrote')
    .option('-k, --limit <n>', 'how many passages', '5')
    .option('--json', 'print the passages as JSON')
    .action(async (query: string, o: { feature?: string; limit: string; json?: boolean }) => {
      const hits = await RegistryClient.of(loadConfig().api).searchContext({
        q: query,
        feature_id: o.feature && featureIdOf(o.feature),
        k: parse(Count, o.limit, '--limit'),
      });
      if (o.json) return printJson(hits);
      if (!hits.length) return console.log(`nothing found for "${query}"`);
      for (const h of hits)
        console.log(
          `${h.source}  (${h.kind}${h.feature_id ? `, ${h.feature_id}` : ''}, score ${h.score.toFixed(2)})\n  ${h.text.replace(/\s+/g, ' ').slice(0, 300)}\n`,
        );
    });

  const artifact = program.command('artifact').description('what the agents produced: ADRs, code, reviews, reports');
  artifact
    .command('show <id>')
    .description('one artifact, whole (an ADR to read at the approval gate, a step with its diff)')
    .option('--json', 'print the artifact as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const found = await RegistryClient.of(loadConfig().api).artifact(id);
      if (!found) throw new Error(`no artifact ${id} (vapora artifact list --feature <id>)`);
      if (o.json) return printJson(found);
      console.log(`${found.id}  ${found.kind}: ${found.title}\n`);
      process.stdout.write(found.content.endsWith('\n') ? found.content : `${found.content}\n`);
    });
  artifact
    .command('list')
    .description('artifacts, without their content: id, kind, task, size, title')
    .option('--feature <id>', "only one feature's")
    .option('--json', 'print the artifacts as JSON')
    .action(async (o: { feature?: string; json?: boolean }) => {
      const found = await RegistryClient.of(loadConfig().api).artifacts({
        feature_id: o.feature && featureIdOf(o.feature),
      });
      if (o.json) return printJson(found);
      const rows = found.map((a) => ({
        id: a.id,
        kind: a.kind,
        task: a.task_id,
        bytes: a.bytes,
        title: a.title.slice(0, 60),
      }));
      console.log(rows.length ? table(rows, ['id', 'kind', 'task', 'bytes', 'title']) : 'no artifacts');
    });
}
