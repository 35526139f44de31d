import type { Command } from 'commander';
import { z } from 'zod';
import { loadConfig, type Config } from '../../config';
import { Identifier, parse } from '../../domain';
import { EventBus } from '../../bus/event-bus';
import { FeatureInput, FeatureOptions, type FeatureStatus } from '../../contracts/feature-input';
import { featureStatusQuery } from '../../contracts/messages';
import { eventLine, eventOf } from '../../client/event-line';
import { printJson, progress, table } from '../output';
import { withClient } from '../temporal-client';
import { featureIdOf, userFeatureWorkflowId } from '../../contracts/workflow-ids';
import { traceLink, webUiLink } from '../../client/web-ui-link';
import { featureDiff } from '../../client/feature-diff';
import { featureStatus } from '../../client/feature-status';
import { listFeatures, startFeature } from '../../client/feature-client';
import { approverLabel } from '../../client/approval-client';

/** A number as typed, then `rule`: an error names the option the person typed, not the field it fills. */
const numberOption = (what: string, rule: z.ZodType<number, number>) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, `${what} must be a number`)
    .transform(Number)
    .pipe(rule);
const rule = FeatureOptions.shape;
const END_PHASES = new Set(['completed', 'aborted', 'failed']);

export function registerFeature(program: Command): void {
  const feature = program
    .command('feature')
    .description('start and follow features: the pipeline of agents from plan to release');

  feature
    .command('start <title>')
    .description('start a feature workflow; with --wait, follow it live until the approval gate or the end')
    .option('--description <text>', 'what the feature is about', '')
    .option('--no-approval', 'release without waiting for a person')
    .option('--developers <n>', 'developers working in parallel (1-10)', '2')
    .option('--budget <usd>', 'LLM budget in USD; a breach escalates to the DecisionMaker', '25')
    .option('--approval-timeout <secs>', 'how long the approval waits before the DecisionMaker is asked', '86400')
    .option('--id <id>', 'feature id (default: from the title)')
    .option('--wait', 'follow the feature live (events from NATS) until it waits for approval or ends')
    .option('--json', 'print JSON: the started feature, then each event and the final status with --wait')
    .action(
      async (
        title: string,
        o: {
          description: string;
          approval: boolean;
          developers: string;
          budget: string;
          approvalTimeout: string;
          id?: string;
          wait?: boolean;
          json?: boolean;
        },
      ) => {
        const config = loadConfig();
        const input = parse(
          FeatureInput,
          {
            title,
            description: o.description,
            options: {
              require_approval: o.approval,
              developers: parse(numberOption('--developers', rule.developers.unwrap()), o.developers, '--developers'),
              budget_usd: parse(numberOption('--budget', rule.budget_usd.unwrap()), o.budget, '--budget'),
              approval_timeout_secs: parse(
                numberOption('--approval-timeout', rule.approval_timeout_secs.unwrap()),
                o.approvalTimeout,
                '--approval-timeout',
              ),
            },
          },
          'feature',
        );
        // Checked before anything starts: a workflow started under a bad id would fail its input at once.
        const id = o.id ? parse(Identifier, featureIdOf(userFeatureWorkflowId(o.id)), '--id') : undefined;
        const since = new Date(Date.now() - 1000);
        await withClient(config, async (client) => {
          const { workflowId, featureId } = await startFeature(client, config.temporal.taskQueue, input, id);
          const started = { workflowId, featureId, title, webUi: webUiLink(config, workflowId) };
          if (o.json) printJson(started);
          else console.log(`started ${workflowId}: ${title}\n  Web UI  ${started.webUi}`);
          if (!o.wait) return;
          const status = await follow(config, workflowId, since, o.json ?? false, () =>
            client.workflow.getHandle(workflowId).query(featureStatusQuery),
          );
          if (o.json) printJson(status);
          else summarize(status, workflowId);
          if (status.phase === 'aborted' || status.phase === 'failed') process.exitCode = 1;
        });
      },
    );

  feature
    .command('list')
    .description('features, newest first: id, status, phase, cost, title')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print the features as JSON')
    .action(async (o: { limit: string; json?: boolean }) => {
      const limit = parse(numberOption('--limit', z.number().int().min(1)), o.limit, '--limit');
      const rows = (await withClient(loadConfig(), (client) => listFeatures(client, { limit }))).map((f) => ({
        id: f.id,
        status: f.status,
        phase: f.phase,
        cost: `$${f.cost.toFixed(4)}`,
        started: f.started.toISOString().replace('T', ' ').slice(0, 19),
        title: f.title,
      }));
      if (o.json) return printJson(rows);
      console.log(
        rows.length
          ? table(rows, ['id', 'status', 'phase', 'cost', 'started', 'title'])
          : 'no features yet (vapora feature start "<title>")',
      );
    });

  feature
    .command('status <id>')
    .description('one feature: phase, steps, pending approval, decisions, costs')
    .option('--json', 'print the status as JSON')
    .action(async (raw: string, o: { json?: boolean }) => {
      const workflowId = userFeatureWorkflowId(raw);
      const config = loadConfig();
      const status = await queryStatus(config, workflowId);
      const links = { web_ui: webUiLink(config, workflowId), trace: traceLink(config, workflowId) };
      if (o.json) return printJson({ ...status, links });
      summarize(status, workflowId);
      console.log(`\n  Web UI  ${links.web_ui}${links.trace ? `\n  trace   ${links.trace}` : ''}`);
    });

  feature
    .command('diff <id>')
    .description("what the feature changed in its workspace: the files, each step's commit, and the unified diff")
    .option('--stat', 'only the files changed, with lines added and deleted')
    .option('--json', 'print files, commits and the diff as JSON')
    .action(async (raw: string, o: { stat?: boolean; json?: boolean }) => {
      const workflowId = userFeatureWorkflowId(raw);
      const status = await queryStatus(loadConfig(), workflowId);
      if (!status.workspace)
        throw new Error(`feature ${workflowId} has no workspace (it was started before features had one)`);
      const changes = await featureDiff(status.workspace);
      if (o.json) return printJson(o.stat ? { ...changes, diff: undefined } : changes);
      console.log(`workspace ${changes.repo}  ${changes.base.slice(0, 10)}..${changes.commit.slice(0, 10)}`);
      for (const c of changes.commits) console.log(`  ${c.commit.slice(0, 10)} ${c.subject}`);
      if (!changes.files.length) return console.log('no file changed');
      const rows = changes.files.map((f) => ({ file: f.path, added: `+${f.added}`, deleted: `-${f.deleted}` }));
      console.log(table(rows, ['file', 'added', 'deleted']));
      if (!o.stat) process.stdout.write(`\n${changes.diff}`);
    });
}

/** A feature's status by its query; a feature that does not exist is said so. */
const queryStatus = (config: Config, workflowId: string): Promise<FeatureStatus> =>
  withClient(config, (client) => featureStatus(client, featureIdOf(workflowId)));

/** Prints the feature's events as they arrive until it waits for a person or ends; returns its status then. */
async function follow(
  config: Config,
  workflowId: string,
  since: Date,
  json: boolean,
  status: () => Promise<FeatureStatus>,
): Promise<FeatureStatus> {
  const featureId = featureIdOf(workflowId);
  const bus = await EventBus.connect(config.nats, { name: 'vapora-cli', manageStreams: false });
  const stop = new AbortController();
  const printing = (async () => {
    for await (const event of bus.events({ follow: true, since, signal: stop.signal })) {
      if (!eventOf(event.message, featureId)) continue;
      if (json) printJson(event);
      else progress(eventLine(event, `${featureId}-`));
    }
  })();
  try {
    for (;;) {
      const s = await status();
      if (s.phase === 'awaiting-approval' || s.pending_approval || END_PHASES.has(s.phase)) {
        // Let the last events of the step that led here print first.
        await new Promise((r) => setTimeout(r, 300));
        return s;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    stop.abort();
    await printing.catch(() => undefined);
    await bus.close();
  }
}

function summarize(s: FeatureStatus, workflowId: string): void {
  console.log(`${workflowId}: ${s.title}`);
  console.log(`  phase   ${s.phase}${s.round ? ` (rework round ${s.round})` : ''}${s.error ? `: ${s.error}` : ''}`);
  console.log(`  cost    $${s.costs.total_usd.toFixed(4)} of $${s.costs.budget_usd} budget, ${s.costs.tokens} tokens`);
  if (s.workspace)
    console.log(
      `  code    ${s.workspace.repo} at ${s.workspace.commit.slice(0, 10)} (npx vapora feature diff ${workflowId})`,
    );
  if (s.steps.length) {
    const rows = s.steps.map((st) => ({
      step: st.name,
      role: st.role,
      status: st.detached ? `${st.status} (on its own)` : st.status,
      agent: st.agent_id,
      verdict: st.verdict,
      cost: `$${st.cost_usd.toFixed(4)}`,
    }));
    console.log(`\n${table(rows, ['step', 'role', 'status', 'agent', 'verdict', 'cost'])}`);
  }
  for (const d of s.decisions)
    console.log(`\n  decision ${d.id}: ${d.decision_type} → ${d.decision} (by ${d.made_by})`);
  for (const a of s.approvals)
    console.log(
      `  ${a.kind} by ${approverLabel(a)}${a.text ? `: ${a.text}` : ''}${a.applied ? '' : ` — ignored: ${a.ignored}`}`,
    );
  if (s.pending_approval) {
    console.log(`\nwaiting for approval until ${s.pending_approval.deadline}:`);
    console.log(`  npx vapora approve ${workflowId} [--comment "…"]`);
    console.log(`  npx vapora reject ${workflowId} --reason "…"`);
  }
}
