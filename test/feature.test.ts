import assert from 'node:assert/strict';
import { subjectsOf } from '../src/domain';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  Client,
  ServiceError,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type WorkflowClientInterceptor,
  type WorkflowHandle,
} from '@temporalio/client';
import { status } from '@grpc/grpc-js';
import { Worker } from '@temporalio/worker';
import { EventBus, askForHelp, type StoredEvent } from '../src/bus/event-bus';
import { installTeam } from '../src/client/pool-client';
import { CATALOG_DIR, loadManifests } from '../src/marketplace/manifest-loader';
import { failureMessage } from '../src/temporal/failure-message';
import { VaporaAgentId, VaporaFeatureId, VaporaRole, VaporaStatus } from '../src/temporal/search-attributes';
import { submitTask } from '../src/client/task-client';
import { DISPATCHED_MEMO } from '../src/contracts/dispatched';
import {
  approveSignal,
  approveUpdate,
  featureStatusQuery,
  rejectSignal,
  taskDispatcherId,
  taskStatusQuery,
} from '../src/contracts/messages';
import { featureWorkflow, taskWorkflow } from '../workflows';
import { agentProcesses, eventually, uninstallPools } from './support/fleet';
import { promptOf, roleAnswers, roleOf, startLLMServer, toolResultsOf, toolNamesOf } from './support/llm-server';
import type { FeatureDiff } from '../src/client/feature-diff';
import { completedActivities, historyText, startedTimers } from './support/history';
import { signVerdict } from '../src/client/approval-client';
import { ApiAuth } from '../src/control-plane/api-auth';
import { readOperatorToken } from '../src/state-secrets';
import { vapora } from './support/cli';
import { planeProcess } from './support/plane-process';
import { workflowBundle } from './support/worker';
import { tempDir, testConverter, testServers, unique } from './support/servers';

const run = promisify(execFile);
const logFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? logFiles(join(dir, e.name)) : e.name.endsWith('.log') ? [join(dir, e.name)] : [],
  );
/** A task's status once its gate waits for a person on attempt `n`. */
const approvalPending = (handle: WorkflowHandle<typeof taskWorkflow>, n: number) =>
  eventually(
    `approval ${n} pending`,
    async () => {
      const s = await handle.query(taskStatusQuery);
      return s.pending_approval && s.attempts.length === n ? s : undefined;
    },
    60_000,
    200,
  );
const API_KEY = 'sk-ant-test-never-leaks-7731';

/**
 * The work end to end: the real control plane as a process, the catalog's 13
 * agents as processes, every LLM call through the real Anthropic client to a
 * local server speaking its wire format with each role's offline artifact.
 */
describe('features and tasks (real control plane, 13 agent processes, real servers)', () => {
  const { natsUrl, temporalAddress, temporalCli } = testServers();
  let bus: EventBus;
  let llm: Awaited<ReturnType<typeof startLLMServer>>;
  let plane: Awaited<ReturnType<typeof planeProcess>>;
  let manifests: string[] = [];

  before(async () => {
    bus = await EventBus.connect(natsUrl);
    llm = await startLLMServer(
      roleAnswers((role, prompt, answer) => {
        if (role === 'code-reviewer' && prompt.includes('[picky]'))
          return { text: 'Not good enough.\nVERDICT: reject' };
        if (prompt.includes('[slow]') && role === 'developer') return { ...answer, delayMs: 4_000 };
        if (prompt.includes('[slower]') && role === 'developer') return { ...answer, delayMs: 10_000 };
        if (prompt.includes('[expensive]')) return { ...answer, outputTokens: 100_000 };
        return answer;
      }),
    );
    plane = await planeProcess('feature', { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: llm.url });
    plane.start();
    const team = loadManifests(CATALOG_DIR);
    manifests = await installTeam(plane.client, plane.taskQueue, team, () => undefined);
  });
  after(async () => {
    await uninstallPools(plane.client, manifests);
    await plane.close();
    await bus.close();
    await llm.close();
  });

  const events = async (prefix: string) => {
    const all: StoredEvent[] = [];
    for await (const e of bus.events()) if ('task_id' in e.message && e.message.task_id.startsWith(prefix)) all.push(e);
    return all;
  };
  const temporal = (...args: string[]) =>
    run(temporalCli, [...args, '--address', temporalAddress, '--namespace', 'default']);

  it('runs a feature started with the temporal CLI through every role to the approval gate, and the CLI signal completes it', async () => {
    const id = unique('f');
    const input = JSON.stringify({ title: 'Add rate limiting to the login API', options: { developers: 2 } });
    await temporal(
      'workflow',
      'start',
      '--type',
      'featureWorkflow',
      '--task-queue',
      plane.taskQueue,
      '--workflow-id',
      `feature-${id}`,
      '--input',
      input,
    );
    const handle = plane.client.workflow.getHandle<typeof featureWorkflow>(`feature-${id}`);
    const gate = await eventually(
      'the approval gate',
      async () => {
        const s = await handle.query(featureStatusQuery);
        // The phase is set as the gate opens; it shows the approval pending a moment later, once it takes Updates.
        return s.phase === 'awaiting-approval' && s.pending_approval ? s : undefined;
      },
      120_000,
      500,
    );
    assert.ok(gate.pending_approval, 'an approval is pending');
    assert.deepEqual([...new Set(gate.steps.map((s) => s.role))].sort(), [
      'architect',
      'code-reviewer',
      'developer',
      'orchestrator',
      'security',
      'tester',
    ]);
    assert.equal(gate.steps.filter((s) => s.role === 'developer').length, 2);

    await temporal(
      'workflow',
      'signal',
      '--workflow-id',
      `feature-${id}`,
      '--name',
      'approve',
      '--input',
      '{"by":"alice","comment":"ship it"}',
    );
    const done = await handle.result();
    assert.equal(done.phase, 'completed');
    const roles = new Set(done.steps.map((s) => s.role));
    for (const role of ['devops', 'monitor', 'project-manager', 'documenter', 'marketer'])
      assert.ok(roles.has(role as never), `${role} took part`);
    assert.deepEqual(
      done.approvals.map((a) => [a.kind, a.by, a.applied]),
      [['approve', 'alice', true]],
    );
    assert.equal(done.approvals[0]?.signer, undefined, 'a plain signal (as the Web UI sends) is recorded unverified');
    const shown = await vapora(['feature', 'status', id], plane.env);
    assert.match(shown.stdout, /approve by alice \(unverified, Temporal signal\): ship it/);
    assert.ok(done.costs.total_usd > 0, 'the Anthropic calls were priced');

    // Developers worked from the ADR itself (fetched by reference) and the shared context of the feature.
    const devPrompt = llm.seen
      .map((r) => promptOf(r.body))
      .find((p) => p.includes('--- adr ---') && /^Task: Implement/m.test(p));
    assert.ok(devPrompt, 'a developer prompt carries the ADR');
    assert.match(devPrompt, /# ADR: /);
    assert.match(devPrompt, /Shared context:\n- adr from architect-001/);
    const shared = await plane.registry.knowledge({ role: 'developer' });
    assert.ok(shared.some((k) => k.key === `${id}/architect`));

    // What a person sees in the Web UI: the title as memo, search attributes, summaries, current details.
    const described = await handle.describe();
    assert.equal(described.memo?.title, 'Add rate limiting to the login API');
    assert.equal(described.typedSearchAttributes.get(VaporaFeatureId), id);
    assert.equal(described.typedSearchAttributes.get(VaporaStatus), 'completed');
    const adrTask = await plane.client.workflow.getHandle(`task-${id}-adr`).describe();
    assert.match((await adrTask.staticSummary()) ?? '', /^architect: /);
    assert.equal(adrTask.typedSearchAttributes.get(VaporaAgentId), 'architect-001');
    const found = [];
    for await (const w of plane.client.workflow.list({ query: `VaporaFeatureId = '${id}'` })) found.push(w.workflowId);
    assert.ok(found.length >= 14, `the feature and its tasks are found by VaporaFeatureId (${found.length})`);

    // A late approval is recorded and ignored, never applied twice.
    await handle.signal(approveSignal, { by: 'bob', comment: 'late' }).catch(() => undefined);

    // Each awaited step's events are in the stream exactly once.
    const stream = await events(id);
    for (const step of done.steps.filter((s) => !s.detached)) {
      const of = (type: string) =>
        stream.filter((e) => e.message.type === type && 'task_id' in e.message && e.message.task_id === step.task_id)
          .length;
      assert.deepEqual(
        [of('TaskAssigned'), of('TaskStarted'), of('TaskCompleted')],
        [1, 1, 1],
        `events of ${step.task_id}`,
      );
      assert.equal(
        new Set(stream.filter((e) => 'task_id' in e.message && e.message.task_id === step.task_id).map((e) => e.msgId))
          .size,
        stream.filter((e) => 'task_id' in e.message && e.message.task_id === step.task_id).length,
      );
    }

    // The developers' code is in the feature's workspace, a commit per developer step naming the step and the
    // agent, and `vapora feature diff` shows it; reviewers got the diff and read the files through their tools.
    assert.ok(done.workspace, 'the result names the workspace');
    const { stdout } = await vapora(['feature', 'diff', `feature-${id}`, '--json'], plane.env);
    const changes = JSON.parse(stdout) as FeatureDiff;
    assert.equal(changes.base, done.workspace.base);
    for (const file of ['add-rate-limiting-to-the-login-api', 'add-rate-limiting-to-the-login-api-part-2'])
      for (const path of [`src/${file}.ts`, `test/${file}.test.ts`])
        assert.ok(
          changes.files.some((f) => f.path === path && f.added > 0),
          `${path} in ${changes.files.map((f) => f.path).join(', ')}`,
        );
    assert.match(changes.diff, /\+export function addRateLimitingToTheLoginApi\(\)/);
    const devCommits = changes.commits.filter((c) => /^Implement/.test(c.subject));
    assert.equal(devCommits.length, 2, 'one commit per developer step');
    const body = await run('git', ['-C', done.workspace.repo, 'log', '--format=%B', devCommits[0]!.commit, '-1']);
    assert.match(body.stdout, /Step: developer task .*-dev-\d, attempt 1\nAgent: developer-001/);
    const reviews = llm.seen.filter(
      (r) => roleOf(r.body) === 'code-reviewer' && promptOf(r.body).includes('login API'),
    );
    assert.ok(reviews.some((r) => promptOf(r.body).includes('+++ b/src/add-rate-limiting-to-the-login-api')));
    assert.ok(
      reviews.some((r) => toolResultsOf(r.body).some((t) => t.output.includes('export function'))),
      'a reviewer read the code through read_text_file',
    );
    assert.ok(
      reviews.some((r) => toolNamesOf(r.body).includes('search_context')),
      "reviewers are offered Vapora's MCP tools",
    );
    assert.ok(
      reviews.some((r) => toolResultsOf(r.body).some((t) => t.output.includes(`"source": "artifact:${id}-dev-`))),
      "a reviewer found the feature's code through Vapora's MCP server (search_context)",
    );

    // Later steps get what earlier steps of the same feature wrote (retrieved by BM25), and nothing of another's.
    const testerPrompt = llm.seen
      .map((r) => promptOf(r.body))
      .find((p) => p.startsWith('Task: Test: Add rate limiting to the login API'));
    assert.ok(testerPrompt, "the tester's prompt");
    const cited = [...testerPrompt.matchAll(/^\[((?:artifact|knowledge):[^\]]+)\]/gm)].map((m) => m[1]!);
    assert.ok(cited.length > 0, `passages of earlier steps in the prompt:\n${testerPrompt}`);
    for (const source of cited) assert.ok(source.split(':')[1]!.startsWith(id), `${source} is of feature ${id}`);

    // The key went into request headers only: not into history, events or logs.
    const history = JSON.stringify(await handle.fetchHistory());
    assert.ok(!history.includes(API_KEY));
    assert.ok(!JSON.stringify(stream).includes(API_KEY));
    assert.ok(llm.seen.some((r) => r.headers['x-api-key'] === API_KEY));
    for (const log of logFiles(plane.stateDir))
      assert.ok(!readFileSync(log, 'utf8').includes(API_KEY), `${log} holds no key`);
  });

  it('sends a rejected feature back to development, then completes it; duplicate signals are ignored', async () => {
    const id = unique('f');
    const handle = await plane.client.workflow.start(featureWorkflow, {
      taskQueue: plane.taskQueue,
      workflowId: `feature-${id}`,
      args: [{ title: 'Export invoices as CSV', options: { developers: 1 } }],
    });
    const atGate = (round: number) =>
      eventually(
        `the approval gate (round ${round})`,
        async () => {
          const s = await handle.query(featureStatusQuery);
          return s.phase === 'awaiting-approval' && s.round === round && s;
        },
        120_000,
        300,
      );
    await atGate(0);
    await handle.signal(rejectSignal, { by: 'carol', reason: 'the CSV needs a header row' });
    await handle.signal(rejectSignal, { by: 'carol', reason: 'the CSV needs a header row' });
    const second = await atGate(1);
    assert.ok(
      second.steps.some((s) => s.name === 'dev-1-2'),
      'the developer worked again',
    );
    await handle.signal(approveSignal, { by: 'dave', comment: '' });
    const done = await handle.result();
    assert.equal(done.phase, 'completed');
    assert.deepEqual(
      done.approvals.map((a) => [a.kind, a.applied]),
      [
        ['reject', true],
        ['reject', false],
        ['approve', true],
      ],
    );
    assert.match(done.approvals[1]!.ignored!, /already given|no approval pending/);
  });

  it('escalates exhausted review rounds to the DecisionMaker agent, whose decision is stored and published', async () => {
    const id = unique('f');
    const handle = await plane.client.workflow.start(featureWorkflow, {
      taskQueue: plane.taskQueue,
      workflowId: `feature-${id}`,
      args: [
        {
          title: 'Refactor billing [picky]',
          options: { developers: 1, max_review_rounds: 2, require_approval: false },
        },
      ],
    });
    const done = await handle.result();
    assert.equal(done.phase, 'completed');
    assert.equal(done.steps.filter((s) => s.role === 'code-reviewer').length, 2);
    const decision = done.decisions.find((d) => d.decision_type === 'review_rounds_exhausted');
    assert.ok(decision, 'the DecisionMaker was asked');
    assert.equal(decision.decision, 'accept');
    assert.match(decision.made_by, /^decision-maker-/);
    const stored = await plane.registry.decisions({ feature_id: id });
    assert.deepEqual(
      stored.map((d) => d.decision),
      ['accept'],
    );
    const published = await eventually('DecisionMade on the stream', async () => {
      const found: StoredEvent[] = [];
      for await (const e of bus.events({ subject: 'vapora.tasks.decisions' }))
        if (e.message.type === 'DecisionMade' && e.message.decision_id === decision.id) found.push(e);
      return found.length > 0 && found;
    });
    assert.equal(published.length, 1);
  });

  it('escalates a breached budget: the DecisionMaker hands over to a person, whose approval lets it go on', async () => {
    const id = unique('f');
    const handle = await plane.client.workflow.start(featureWorkflow, {
      taskQueue: plane.taskQueue,
      workflowId: `feature-${id}`,
      args: [
        { title: 'Summarise logs [expensive]', options: { developers: 1, budget_usd: 1, require_approval: false } },
      ],
    });
    const waiting = await eventually(
      'a person asked about the budget',
      async () => {
        const s = await handle.query(featureStatusQuery);
        return s.pending_approval ? s : undefined;
      },
      60_000,
      300,
    );
    assert.ok(waiting.costs.total_usd > 1);
    assert.equal(waiting.decisions.find((d) => d.decision_type === 'budget_exceeded')?.decision, 'ask_human');
    await handle.signal(approveSignal, { by: 'erin', comment: 'worth it' });
    const done = await handle.result();
    assert.equal(done.phase, 'completed');
  });

  it("enforces a task deadline with its calls' own timeouts and escalates; the last escalation asks a person", async () => {
    const id = unique('t');
    const handle = await plane.client.workflow.start(taskWorkflow, {
      taskQueue: plane.taskQueue,
      workflowId: `task-${id}`,
      args: [{ role: 'developer', title: 'Port the parser [slow]', deadline_secs: 2 }],
    });
    const waiting = await eventually(
      'a person asked',
      async () => {
        const s = await handle.query(taskStatusQuery);
        return s.decisions.length === 2 && s;
      },
      60_000,
      300,
    );
    await handle.signal(rejectSignal, { by: 'frank', reason: 'drop it' });
    const error = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof WorkflowFailedError);
    assert.match(failureMessage(error), /aborted by decision/);
    assert.deepEqual(
      waiting.decisions.map((d) => [d.decision_type, d.decision]),
      [
        ['deadline_missed', 'reassign'],
        ['deadline_missed', 'ask_human'],
      ],
    );
    const history = await handle.fetchHistory();
    const calls = history.events!.flatMap((e) => e.activityTaskScheduledEventAttributes ?? []);
    const byDeadline = calls.filter((c) => c.activityType?.name === 'callModel');
    assert.ok(byDeadline.length >= 2, 'a call on each attempt');
    assert.ok(
      byDeadline.every((c) => Number(c.scheduleToCloseTimeout?.seconds ?? 99) <= 2),
      'each call, retries and all, ends by the 2 s deadline: the server keeps it durably',
    );
    const failed = (await events(id)).filter((e) => e.message.type === 'TaskFailed');
    assert.equal(failed.length, 2);
    const escalations = history.events!.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'escalate',
    );
    assert.equal(escalations.length, 2, 'each escalation is an activity in the history');
    const decided = [];
    for await (const e of bus.events({ subject: 'vapora.tasks.decisions' }))
      if (e.message.type === 'DecisionMade' && e.message.decision_id.startsWith(`${id}-d`))
        decided.push(e.message.decision);
    assert.deepEqual(decided, ['reassign', 'ask_human']);
  });

  it('drives features from the vapora CLI: start --wait with live events, status, task list, events, approve, reject', async () => {
    const started = await vapora(
      ['feature', 'start', 'Nightly export', '--no-approval', '--developers', '1', '--wait', '--json'],
      plane.env,
    );
    assert.equal(started.code, 0, started.stderr);
    const lines = started.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const { workflowId, featureId } = lines[0];
    assert.match(workflowId, /^feature-nightly-export-[0-9a-f]{4}$/);
    assert.ok(
      lines.some((l) => l.message?.type === 'TaskAssigned'),
      'live events were printed',
    );
    assert.equal(lines.at(-1).phase, 'completed');

    const status = await vapora(['feature', 'status', featureId], plane.env);
    assert.match(status.stdout, /phase {3}completed/);
    const tasks = JSON.parse((await vapora(['task', 'list', '--feature', workflowId, '--json'], plane.env)).stdout);
    assert.ok(tasks.length >= 9 && tasks.every((t: { feature_id: string }) => t.feature_id === featureId));
    const events = (
      await vapora(['events', '--feature', featureId, '--type', 'TaskCompleted', '--json'], plane.env)
    ).stdout
      .trim()
      .split('\n');
    assert.equal(events.length, tasks.filter((t: { status: string }) => t.status === 'completed').length);

    const late = await vapora(['approve', workflowId], plane.env);
    assert.equal(late.code, 1);
    assert.match(late.stderr, /has already finished/);
    const missing = unique('nope');
    const noStatus = await vapora(['feature', 'status', missing], plane.env);
    assert.equal(noStatus.code, 1);
    assert.match(noStatus.stderr, new RegExp(`no feature feature-${missing} \\(vapora feature list\\)`));
    const noGate = await vapora(['approve', missing], plane.env);
    assert.equal(noGate.code, 1);
    assert.match(noGate.stderr, new RegExp(`no workflow feature-${missing} \\(vapora feature list\\)`));
    const noReason = await vapora(['reject', workflowId], plane.env);
    assert.notEqual(noReason.code, 0);
    assert.match(noReason.stderr, /--reason/);
    const badStatus = await vapora(['task', 'list', '--status', 'sleeping'], plane.env);
    assert.equal(badStatus.code, 1);
    assert.match(badStatus.stderr, /--status: Invalid option/);
    const bad = await vapora(['feature', 'start', 'x', '--developers', '0'], plane.env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid --developers:\n {2}- --developers: Too small/);
  });

  it('completes a feature after the control plane and the working agent are killed mid-step, resuming the step, without duplicates', async () => {
    const id = unique('f');
    const handle = await plane.client.workflow.start(featureWorkflow, {
      taskQueue: plane.taskQueue,
      workflowId: `feature-${id}`,
      args: [{ title: 'Audit trail [slow]', options: { developers: 1, require_approval: false } }],
    });
    // Mid-step: the agent has the task, has made one tool call, and is waiting on its (slow) LLM.
    const since = new Date();
    const working = await eventually(
      'a developer waiting on its LLM',
      async () => {
        for await (const e of bus.events({ subject: subjectsOf('TaskProgress'), since })) {
          if (
            e.message.type === 'TaskProgress' &&
            e.message.task_id === `${id}-dev-1` &&
            e.message.current_step.startsWith('step 2: asking')
          )
            return (await plane.registry.agent(e.message.agent_id))?.instance;
        }
        return undefined;
      },
      60_000,
      100,
    );
    await plane.kill('SIGKILL');
    process.kill(Number(working.pod_id.replace('pid-', '')), 'SIGKILL');
    plane.start();

    const done = await handle.result();
    assert.equal(done.phase, 'completed');
    const stream = await events(id);
    const keys = stream.map((e) => e.msgId);
    assert.equal(new Set(keys).size, keys.length, 'no event stored twice');
    for (const step of done.steps.filter((s) => !s.detached)) {
      const completed = stream.filter((e) => e.message.type === 'TaskCompleted' && e.message.task_id === step.task_id);
      assert.equal(completed.length, 1, `${step.task_id} completed once`);
    }
    const dev = stream.filter((e) => e.message.type === 'TaskAssigned' && e.message.task_id === `${id}-dev-1`);
    const trail = stream
      .filter((e) => 'task_id' in e.message && e.message.task_id === `${id}-dev-1`)
      .map((e) => e.msgId);
    // The step resumed on its restarted agent after its last completed call: not handed out again, the call in
    // flight asked again, every call completed once.
    assert.equal(dev.length, 1, `the developer step stayed with its agent: ${trail.join(', ')}`);
    const history = (await plane.client.workflow.getHandle(`task-${id}-dev-1`).fetchHistory()).events ?? [];
    assert.ok(
      history.some((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1),
      'the call in flight ran again',
    );
    const step = ['callModel', 'callTool'];
    assert.deepEqual(completedActivities(history), [...step, ...step, ...step, ...step, 'callModel']);
  });

  it('takes a task through the dispatcher: assigned at once, run to completion, submitted once however often it is sent', async () => {
    const id = unique('t');
    const submitted = await submitTask(plane.client, plane.taskQueue, {
      task_id: id,
      role: 'tester',
      title: 'Check the CSV export',
    });
    const { run_id, ...named } = submitted;
    assert.deepEqual(named, { task_id: id, workflow_id: `task-${id}`, agent_id: 'tester-001' });
    // Followed by its run, as the dispatcher started it: no lookup of the current run.
    const handle = plane.client.workflow.getHandle<typeof taskWorkflow>(`task-${id}`, run_id);
    const outcome = await handle.result();
    assert.equal(outcome.status, 'completed');
    assert.equal(outcome.result?.verdict, 'approve');
    // What it cost the server: started by the dispatcher's local activity (no child whose start and end wake the
    // dispatcher), its search attributes set at start and upserted once, at its end; its deadline kept by its
    // calls' own timeouts, not a timer.
    const described = await handle.describe();
    assert.equal(described.runId, run_id);
    assert.equal(described.parentExecution, undefined);
    assert.equal(described.typedSearchAttributes.get(VaporaStatus), 'completed');
    assert.equal(described.typedSearchAttributes.get(VaporaAgentId), 'tester-001');
    assert.equal(described.typedSearchAttributes.get(VaporaRole), 'tester');
    const recorded = await handle.fetchHistory();
    // Begun at this release's patch level: no patch marker, and it replays as it ran.
    await Worker.runReplayHistory(
      { workflowBundle: await workflowBundle(), dataConverter: testConverter() },
      recorded,
      `task-${id}`,
    );
    const history = recorded.events ?? [];
    assert.equal(history.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').length, 0);
    assert.equal(
      history[0]?.workflowExecutionStartedEventAttributes?.eagerExecutionAccepted,
      true,
      'its first workflow task came back with its start, to the control plane that started it',
    );
    assert.equal(history.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).length, 1);
    assert.equal(history.filter((e) => e.timerStartedEventAttributes).length, 0);
    // Its input parsed and its start recorded by the dispatcher's activity: its one local activity records its end.
    assert.equal(described.memo?.[DISPATCHED_MEMO], true);
    const localActivities = history.filter(
      (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
    );
    assert.equal(localActivities.length, 1);
    const record = (await plane.registry.tasks({ role: 'tester' })).find((t) => t.id === id);
    assert.equal(record?.status, 'completed');
    assert.equal(record?.agent_id, 'tester-001');
    const call = history.find((e) => e.activityTaskScheduledEventAttributes)!.activityTaskScheduledEventAttributes!;
    assert.ok(Number(call.scheduleToCloseTimeout?.seconds) <= 1800, 'the call ends by the deadline, retries and all');
    assert.deepEqual(
      await submitTask(plane.client, plane.taskQueue, { task_id: id, role: 'tester', title: 'Check the CSV export' }),
      submitted,
      'the same answer, nothing new',
    );
    const assigned = (await events(id)).filter((e) => e.message.type === 'TaskAssigned');
    assert.equal(assigned.length, 1, 'the dispatcher announced it once, and the task workflow did not again');
    // Its LLM call is announced at once; reading its inputs and storing its result end within a second, unannounced.
    const progress = (await events(id)).flatMap((e) => (e.message.type === 'TaskProgress' ? [e.message] : []));
    assert.equal(progress.length, 1, progress.map((p) => p.current_step).join(', '));
    assert.match(progress[0]!.current_step, /^step 1: asking /);
    // Its workflows track no promise's stack (VAPORA_WORKFLOW_STACK_TRACES is off): the Web UI's tab says so.
    await assert.rejects(
      plane.client.workflow.getHandle(taskDispatcherId(plane.taskQueue, id)).query('__stack_trace'),
      /Workflow stack traces are not enabled on this worker/,
    );
  });

  /** `count` task ids under `prefix` that hash to one dispatcher shard, and that shard. */
  const oneShard = (prefix: string, count: number) => {
    const shard = taskDispatcherId(plane.taskQueue, `${prefix}-0`);
    const ids = Array.from({ length: 1000 }, (_, i) => `${prefix}-${i}`)
      .filter((id) => taskDispatcherId(plane.taskQueue, id) === shard)
      .slice(0, count);
    return { shard, ids };
  };

  /** What the server answers while a shard's last workflow task (timed out, or failed) awaits its retry. */
  const workflowTaskFailed = () =>
    new ServiceError('Unable to perform workflow execution update', {
      cause: Object.assign(new Error('9 FAILED_PRECONDITION'), {
        code: status.FAILED_PRECONDITION,
        details: 'Unable to perform workflow execution update due to Workflow Task in failed state.',
        metadata: {},
      }),
    });

  /** A client of the plane's that runs `startUpdate` around each update it sends. */
  const interceptingUpdates = (startUpdate: NonNullable<WorkflowClientInterceptor['startUpdate']>) =>
    new Client({
      connection: plane.client.connection,
      dataConverter: testConverter(),
      interceptors: { workflow: [{ startUpdate }] },
    });

  it("sends each submission to the dispatcher run that answered the last, and finds the shard's next run once that one ends", async () => {
    const sent: (string | undefined)[] = [];
    const client = interceptingUpdates((input, next) => {
      sent.push(input.workflowExecution.runId);
      return next(input);
    });
    const p = unique('r');
    const { shard, ids } = oneShard(p, 4);
    const submit = async (task_id: string) => {
      const submitted = await submitTask(client, plane.taskQueue, {
        task_id,
        role: 'tester',
        title: 'Check the totals',
      });
      assert.equal(submitted.agent_id, 'tester-001');
      await client.workflow.getHandle<typeof taskWorkflow>(submitted.workflow_id, submitted.run_id).result();
    };
    await submit(ids[0]!);
    const first = (await client.workflow.getHandle(shard).describe()).runId;
    await submit(ids[1]!);
    assert.deepEqual(sent, [undefined, first], 'the second went to the run that answered the first');
    // Ended as a run ends when it continues as new: the next submission finds the shard's current run.
    await client.workflow.getHandle(shard, first).terminate('the run ends');
    await submit(ids[2]!);
    const next = (await client.workflow.getHandle(shard).describe()).runId;
    assert.notEqual(next, first);
    await submit(ids[3]!);
    assert.deepEqual(sent, [undefined, first, first, undefined, undefined, next]);
  });

  it('submits through a dispatcher whose workflow task failed, sending again until its retry takes the update', async () => {
    const refusingUntil = Date.now() + 1_500;
    let refused = 0;
    const client = interceptingUpdates((input, next) => {
      if (Date.now() >= refusingUntil) return next(input);
      refused++;
      throw workflowTaskFailed();
    });
    const submitted = await submitTask(client, plane.taskQueue, {
      task_id: unique('f'),
      role: 'tester',
      title: 'Check the totals',
    });
    assert.equal(submitted.agent_id, 'tester-001');
    // More than a few quick tries: the refusals lasted longer than they take.
    assert.ok(refused > 5, `refused ${refused} times`);
    await client.workflow.getHandle<typeof taskWorkflow>(submitted.workflow_id, submitted.run_id).result();
  });

  it('gives up on a shard that keeps refusing (its workflow task failing at every retry) and starts the task workflow itself', async () => {
    let refused = 0;
    const client = interceptingUpdates(() => {
      refused++;
      throw workflowTaskFailed();
    });
    const task_id = unique('g');
    const submitted = await submitTask(client, plane.taskQueue, { task_id, role: 'tester', title: 'Check the totals' });
    assert.equal(submitted.agent_id, null, 'the plane finds its agent when it runs it');
    assert.ok(refused > 5, `refused ${refused} times first`);
    const handle = client.workflow.getHandle<typeof taskWorkflow>(submitted.workflow_id, submitted.run_id);
    assert.equal((await handle.describe()).memo?.[DISPATCHED_MEMO], undefined);
    const outcome = await handle.result();
    assert.equal(outcome.status, 'completed');
    assert.equal(outcome.agent_id, 'tester-001');
  });

  it('starts the task workflows itself while their shard has its fill of submissions in flight, and runs each task once', async () => {
    const p = unique('b');
    const { ids } = oneShard(p, 16);
    // Sent at once to one shard: the server takes ten in flight and refuses the rest (history.maxInFlightUpdates).
    const submitted = await Promise.all(
      ids.map((task_id) =>
        submitTask(plane.client, plane.taskQueue, { task_id, role: 'tester', title: 'Check the totals' }),
      ),
    );
    const memos = await Promise.all(
      submitted.map(async (s) => (await plane.client.workflow.getHandle(s.workflow_id).describe()).memo),
    );
    const direct = submitted.filter((_, i) => !memos[i]?.[DISPATCHED_MEMO]);
    assert.ok(direct.length > 0 && direct.length < ids.length, `${direct.length} of ${ids.length} started directly`);
    assert.ok(direct.every((s) => s.agent_id === null && s.run_id));
    const outcomes = await Promise.all(
      submitted.map((s) => plane.client.workflow.getHandle<typeof taskWorkflow>(s.workflow_id, s.run_id).result()),
    );
    assert.ok(
      outcomes.every((o) => o.status === 'completed' && o.agent_id === 'tester-001' && o.attempts.length === 1),
    );
    const stream = await events(p);
    for (const type of ['TaskAssigned', 'TaskCompleted'])
      assert.deepEqual(
        stream
          .filter((e) => e.message.type === type)
          .map((e) => ('task_id' in e.message ? e.message.task_id : ''))
          .sort(),
        [...ids].sort(),
        `${type} once per task`,
      );
  });

  it("keeps each role's queue in priority order: a freed slot goes to the high-priority task, woken at once, ahead of a normal one that came first", async () => {
    const p = unique('q');
    const developer = (task_id: string, title: string, priority?: 'high') =>
      submitTask(plane.client, plane.taskQueue, { task_id, role: 'developer', title, priority });
    const { max_concurrent_tasks: slots } = (await plane.registry.agent('developer-001'))!;
    // One slot frees first, so which waiting task takes it is the queue's order, not a race between two woken tasks.
    const busy = await Promise.all(
      Array.from({ length: slots }, (_, i) =>
        developer(`${p}-busy-${i + 1}`, i === 0 ? 'Write the migration [slow]' : 'Write the schema [slower]'),
      ),
    );
    assert.ok(busy.every((b) => b.agent_id === 'developer-001'));
    assert.equal((await developer(`${p}-normal`, 'Write the notes')).agent_id, null);
    assert.equal((await developer(`${p}-high`, 'Fix the outage', 'high')).agent_id, null);
    const result = (id: string) => plane.client.workflow.getHandle<typeof taskWorkflow>(`task-${id}`).result();
    await Promise.all([result(`${p}-normal`), result(`${p}-high`)]);
    const assigned = (await events(p)).filter((e) => e.message.type === 'TaskAssigned').map((e) => e.message);
    const order = assigned.map((m) => ('task_id' in m ? m.task_id : ''));
    assert.ok(order.indexOf(`${p}-high`) < order.indexOf(`${p}-normal`), order.join(', '));
    // Woken by the control plane when its slot freed, rather than at the end of its wait.
    const history = (await plane.client.workflow.getHandle(`task-${p}-high`).fetchHistory()).events ?? [];
    assert.ok(history.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'wake'));
  });

  it('gives up waiting for an agent once its asks have waited its assignment timeout, escalates, and replays as it ran', async () => {
    const p = unique('w');
    const { max_concurrent_tasks: slots } = (await plane.registry.agent('developer-001'))!;
    await Promise.all(
      Array.from({ length: slots }, (_, i) =>
        submitTask(plane.client, plane.taskQueue, {
          task_id: `${p}-busy-${i + 1}`,
          role: 'developer',
          title: 'Write the migration [slow]',
        }),
      ),
    );
    const waiting = await submitTask(plane.client, plane.taskQueue, {
      task_id: `${p}-late`,
      role: 'developer',
      title: 'Write the notes',
      assignment_timeout_secs: 2,
    });
    assert.equal(waiting.agent_id, null);
    const handle = plane.client.workflow.getHandle<typeof taskWorkflow>(`task-${p}-late`);
    // Were the developer still busy at its second give-up, the DecisionMaker would hand it to a person: approve.
    const person = setInterval(
      () =>
        void handle
          .query(taskStatusQuery)
          .then((s) => s.pending_approval && handle.signal(approveSignal, { by: 'gina', comment: '' }))
          .catch(() => undefined),
      1000,
    );
    const outcome = await handle.result().finally(() => clearInterval(person));
    assert.equal(outcome.status, 'completed');
    // Waited its two seconds for a developer, then asked the DecisionMaker, which said to go on waiting.
    assert.deepEqual(outcome.decisions[0] && [outcome.decisions[0].decision_type, outcome.decisions[0].decision], [
      'no_agent',
      'retry',
    ]);
    const history = await handle.fetchHistory();
    // Timed by the times its asks reported, not by a timer of the whole timeout racing them (see assign()).
    const timers = await startedTimers(history.events ?? [], testConverter()?.payloadCodecs?.[0]);
    const waits = timers.filter((t) => t.summary === 'no developer agent free; waiting');
    assert.ok(
      waits.length > 0 && waits.every((t) => t.ms < 2000) && !timers.some((t) => t.summary.endsWith(': escalate')),
      timers.map((t) => `${t.summary}: ${t.ms} ms`).join('; '),
    );
    await Worker.runReplayHistory(
      { workflowBundle: await workflowBundle(), dataConverter: testConverter() },
      history,
      `task-${p}-late`,
    );
  });

  it('holds a task for approval: the CLI hears at once what its Update did; a rejection sends it back, an approval (once per Update id) completes it', async () => {
    const id = unique('t');
    await submitTask(plane.client, plane.taskQueue, {
      task_id: id,
      // Slow (10 s an attempt), so the first approval surely comes before the gate opens, however slow the CLI starts.
      role: 'developer',
      title: 'Write the upgrade guide [slower]',
      require_approval: true,
    });
    // Recorded running by the dispatcher's activity as it started the task, which records no start of its own.
    const running = await plane.registry.tasks({ role: 'developer', status: 'running' });
    assert.equal(running.find((t) => t.id === id)?.retry_count, 0);
    const handle = plane.client.workflow.getHandle<typeof taskWorkflow>(`task-${id}`);
    const pending = (n: number) => approvalPending(handle, n);
    // Before the gate opens: the Update is refused, and the sender told why.
    const early = await vapora(['approve', `task-${id}`, '--by', 'gina'], plane.env);
    assert.equal(early.code, 1, `${early.stdout}${early.stderr}`);
    assert.match(early.stderr, new RegExp(`task-${id} has no approval pending: nothing was applied`));
    // Nobody named: the validator refuses it before it enters history.
    await assert.rejects(
      handle.executeUpdate(approveUpdate, { args: [{ by: '', comment: '' }] }),
      WorkflowUpdateFailedError,
    );
    await pending(1);
    const rejected = await vapora(
      ['reject', `task-${id}`, '--reason', 'mention the rollback', '--by', 'gina'],
      plane.env,
    );
    assert.equal(rejected.code, 0, rejected.stderr);
    // The CLI signs with the operator token of the state directory: gina is the name shown beside it.
    assert.match(rejected.stdout, /rejected task-.* \(by gina \(signed by the operator token\)\)/);
    await pending(2);
    const reworked = llm.seen
      .map((r) => promptOf(r.body))
      .find((p) => p.includes('Rework requested: mention the rollback (gina)'));
    assert.ok(reworked, 'the second attempt was told why');
    // A program that sends the same Update twice (a retry) gets the same answer, applied once.
    const approve = () =>
      handle.executeUpdate(approveUpdate, { args: [{ by: 'gina', comment: 'ok' }], updateId: `approve-${id}` });
    const [first, again] = [await approve(), await approve()];
    assert.equal(first.applied, true);
    assert.deepEqual(again, first);
    const outcome = await handle.result();
    assert.equal(outcome.status, 'completed');
    assert.deepEqual(
      outcome.approvals?.map((a) => [a.kind, a.via, a.signer, a.applied]),
      // The early approve was refused before it was accepted: nothing recorded.
      [
        ['reject', 'update', 'operator', true],
        ['approve', 'update', undefined, true],
      ],
    );
  });

  it("records who approves: a person's token signs as them and never travels; a forged, stale or misnamed seal applies nothing", async () => {
    const id = unique('t');
    const workflowId = `task-${id}`;
    await submitTask(plane.client, plane.taskQueue, {
      task_id: id,
      role: 'tester',
      title: 'Check the audit log',
      require_approval: true,
    });
    const handle = plane.client.workflow.getHandle<typeof taskWorkflow>(workflowId);
    const pending = (n: number) => approvalPending(handle, n);
    await pending(1);
    const issued = await vapora(['token', 'issue', '--person', 'hana', '--json'], plane.env);
    assert.equal(issued.code, 0, issued.stderr);
    const { person, token } = JSON.parse(issued.stdout) as { person: string; token: string };
    assert.equal(person, 'hana');
    assert.match(token, /^vpp_hana\./);
    const asHana = { ...plane.env, VAPORA_TOKEN: token };

    // Another name with hana's token is refused before anything is sent.
    const misnamed = await vapora(['approve', workflowId, '--by', 'ivan'], asHana);
    assert.equal(misnamed.code, 1);
    assert.match(misnamed.stderr, /--by ivan is not hana, whose token \(VAPORA_TOKEN\) signs this/);
    assert.deepEqual((await handle.query(taskStatusQuery)).approvals, [], 'nothing reached the workflow');

    // A seal made with a token this plane did not issue, or made too long ago, is recorded and not applied.
    const forgedToken = ApiAuth.of(tempDir('elsewhere')).personToken('hana');
    const forged = await handle.executeUpdate(approveUpdate, {
      args: [signVerdict(workflowId, { approve: { by: 'hana' } }, forgedToken).approve],
    });
    assert.equal(forged.applied, false);
    assert.equal(forged.ignored, "not verified: the seal was not made with hana's token");
    const stale = await handle.executeUpdate(approveUpdate, {
      args: [signVerdict(workflowId, { approve: { by: 'hana' } }, token, new Date(Date.now() - 20 * 60_000)).approve],
    });
    assert.equal(stale.applied, false);
    assert.match(stale.ignored ?? '', /^not verified: sealed at .*, more than 15 minutes from when it arrived/);

    // Signed by hana's token from the CLI: recorded as hana's, verified.
    const rejected = await vapora(['reject', workflowId, '--reason', 'cover log rotation'], asHana);
    assert.equal(rejected.code, 0, rejected.stderr);
    assert.match(rejected.stdout, /rejected task-.* \(by hana \(signed by token\)\)/);
    await pending(2);
    // A plain signal, as the Web UI and `temporal workflow signal` send: applied, recorded as unverified.
    await handle.signal(approveSignal, { by: 'ivan', comment: 'fine by me' });
    const outcome = await handle.result();
    assert.equal(outcome.status, 'completed');
    assert.deepEqual(
      outcome.approvals?.map((a) => [a.kind, a.by, a.signer, a.via, a.applied]),
      [
        ['approve', 'hana', undefined, 'update', false],
        ['approve', 'hana', undefined, 'update', false],
        ['reject', 'hana', 'hana', 'update', true],
        ['approve', 'ivan', undefined, 'signal', true],
      ],
    );

    // The history holds the seals, never a token.
    const history = await historyText(await handle.fetchHistory(), testConverter()?.payloadCodecs?.[0]);
    assert.match(history, /"signer":"hana"/, 'the history was read decoded');
    for (const secret of [token, forgedToken, readOperatorToken(plane.stateDir)!])
      assert.ok(!history.includes(secret), 'no token in the history');
  });

  it('agents answer requests for help in their own name', async () => {
    const offer = await askForHelp(
      bus,
      {
        type: 'RequestHelp',
        from_agent: 'developer-001',
        to_roles: ['security'],
        context: 'threat model for the login API',
        deadline: new Date(Date.now() + 5000).toISOString(),
      },
      5000,
    );
    assert.equal(offer?.from_agent, 'security-001');
    assert.equal(offer?.to_agent, 'developer-001');
  });

  it('fails invalid input at once, naming the field, without retrying', async () => {
    const bad = await plane.client.workflow.start(taskWorkflow, {
      taskQueue: plane.taskQueue,
      workflowId: `task-${unique('bad')}`,
      args: [{ role: 'wizard', title: '' } as never],
    });
    await assert.rejects(bad.result(), (e: unknown) => {
      assert.match(failureMessage(e), /invalid taskWorkflow input: role: Invalid option.*; title: Too small/);
      return true;
    });
    const feature = await plane.client.workflow.start(featureWorkflow, {
      taskQueue: plane.taskQueue,
      workflowId: `feature-${unique('bad')}`,
      args: [{ title: 'x', options: { developers: 0 } }],
    });
    await assert.rejects(feature.result(), (e: unknown) => {
      assert.match(failureMessage(e), /invalid featureWorkflow input: options\.developers: Too small/);
      return true;
    });
    const described = await feature.describe();
    assert.equal(described.status.name, 'FAILED');
    const other = await plane.client.workflow.start(featureWorkflow, {
      taskQueue: plane.taskQueue,
      workflowId: `feature-${unique('mine')}`,
      args: [{ title: 'x', feature_id: 'someone-else' }],
    });
    await assert.rejects(other.result(), (e: unknown) => {
      assert.match(failureMessage(e), /feature_id: "someone-else" does not match the workflow id feature-mine-/);
      return true;
    });
    const id = unique('bad');
    await assert.rejects(
      submitTask(plane.client, plane.taskQueue, { task_id: id, role: 'wizard' as never, title: 'x', deadline_secs: 0 }),
      (e: unknown) => {
        assert.match(failureMessage(e), /invalid task: role: Invalid option.*; deadline_secs: Too small/);
        return true;
      },
    );
    await assert.rejects(plane.client.workflow.getHandle(`task-${id}`).describe(), /not found/i, 'nothing was started');
  });

  after(() => {
    assert.deepEqual(agentProcesses('decision-maker-'), [], 'no agent process left');
  });
});
