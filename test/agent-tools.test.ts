import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventBus } from '../src/bus/event-bus';
import { AgentManifest, parse } from '../src/domain';
import { RegistryStore } from '../src/registry/registry-store';
import { createFeatureWorkspace } from '../src/control-plane/feature-workspace';
import { taskStatusQuery } from '../src/contracts/messages';
import { git } from '../src/host/git';
import { tsNodeArgs } from '../src/host/project';
import { agentPoolWorkflow, taskWorkflow } from '../workflows';
import { agentProcesses, eventually, fastManifest } from './support/fleet';
import { promptOf, startLLMServer, toolStepsOf, type Answer, type WireToolCall } from './support/llm-server';
import { tempDir, testServers, unique } from './support/servers';
import { controlPlane } from './support/worker';
import { completedActivities } from './support/history';

/** What the scripted model does at each step of a task, by the task's title. */
type Script = (step: number) => Answer | Promise<Answer>;

const call = (name: string, input: Record<string, unknown>, id = `call_${name}`): WireToolCall => ({ id, name, input });

/**
 * Agents acting through MCP tools on a feature's workspace: a real agent
 * process, the real filesystem MCP server from npm, the real Anthropic client
 * against a local server speaking its wire format with a scripted model.
 */
// A broken step fails the test instead of waiting on an escalation nobody answers.
describe(
  'agents acting through MCP tools (real agent process, filesystem MCP server, git workspace)',
  { timeout: 240_000 },
  () => {
    let registry: RegistryStore;
    let bus: EventBus;
    let plane: Awaited<ReturnType<typeof controlPlane>>;
    let llm: Awaited<ReturnType<typeof startLLMServer>>;
    const scripts = new Map<string, Script>();
    const taskQueue = unique('tools');
    const prefix = unique('act').replace(/-/g, '').slice(0, 12);
    const stateDir = tempDir('tools');

    before(async () => {
      llm = await startLLMServer((r) => {
        const title = promptOf(r.body).match(/^Task: (.+)$/m)?.[1] ?? '';
        const script = scripts.get(title);
        return script ? script(toolStepsOf(r.body) + 1) : { text: 'done' };
      });
      // The agent processes inherit these: every LLM call goes to the scripted model.
      Object.assign(process.env, { ANTHROPIC_API_KEY: 'sk-ant-tools-test-0001', ANTHROPIC_BASE_URL: llm.url });
      registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'tools' });
      bus = await EventBus.connect(testServers().natsUrl);
      plane = await controlPlane(taskQueue, { registry, bus }, stateDir);
      plane.run();
      const manifest = fastManifest(`${prefix}dev`, {
        llm_provider: 'claude',
        llm_model: 'claude-sonnet-4-5',
        tools: {
          mcp_servers: [
            { name: 'workspace', command: 'mcp-server-filesystem', args: ['${workspace}'] },
            {
              name: 'crashing',
              command: process.execPath,
              args: tsNodeArgs('test/support/crashing-mcp-server.ts'),
            },
          ],
          allow: ['read_text_file', 'write_file', 'create_directory', 'list_directory', 'crash'],
          max_steps: 6,
        },
      });
      await plane.client.workflow.start(agentPoolWorkflow, {
        taskQueue,
        workflowId: `pool-${manifest.id}`,
        args: [{ manifestId: manifest.id, replicas: 1, manifest: parse(AgentManifest, manifest, 'manifest') }],
      });
      await eventually(
        'the agent Active',
        async () => (await registry.agents.get(`${manifest.id}-001`))?.status === 'Active',
        60_000,
      );
    });
    after(async () => {
      await plane.shutdown();
      await bus.close();
      await registry.close();
      await llm.close();
    });

    const startTask = async (
      title: string,
      script: Script,
      { prepare, overHttp }: { prepare?: (repo: string) => Promise<void>; overHttp?: boolean } = {},
    ) => {
      const id = unique('tt');
      const workspace = await createFeatureWorkspace(stateDir, `ws-${id}`, plane.gitUrl);
      await prepare?.(workspace.repo);
      scripts.set(title, script);
      const handle = await plane.client.workflow.start(taskWorkflow, {
        taskQueue,
        workflowId: `task-${id}`,
        args: [
          {
            task_id: id,
            role: 'developer',
            title,
            workspace: overHttp ? workspace.url : workspace.repo,
            max_attempts: 1,
            pickup_timeout_secs: 60,
          },
        ],
      });
      return { id, handle, workspace };
    };
    /** The first attempt's failure, once there is one: a clear failure, not a hang. */
    const firstFailure = async (handle: Awaited<ReturnType<typeof startTask>>['handle']) => {
      const failed = await eventually(
        'the attempt to fail',
        async () => (await handle.query(taskStatusQuery)).attempts.find((a) => a.outcome === 'failed'),
        60_000,
        300,
      );
      await handle.terminate('test done');
      return failed.error ?? '';
    };
    const agentPid = () => agentProcesses(prefix)[0];

    it('writes files through the tools in a workspace reached over HTTP, commits the step, and survives kill -9 between two tool calls', async () => {
      let holdStep2: (() => void) | undefined;
      const step2Asked = new Promise<void>((resolve) => (holdStep2 = resolve));
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      let step2Calls = 0;
      const { handle, workspace } = await startTask(
        'Write two files',
        async (step) => {
          if (step === 1)
            return {
              text: '',
              toolCalls: [call('write_file', { path: 'one.txt', content: 'first\n' })],
              inputTokens: 100,
              outputTokens: 10,
            };
          if (step === 2) {
            // The agent dies while this call is in flight: it answers only once the agent is gone.
            step2Calls++;
            holdStep2?.();
            await released;
            return {
              text: '',
              toolCalls: [call('write_file', { path: 'two.txt', content: 'second\n' })],
              inputTokens: 200,
              outputTokens: 20,
            };
          }
          return { text: 'Wrote one.txt and two.txt.', inputTokens: 300, outputTokens: 30 };
        },
        // Cloned and pushed over HTTP from the control plane's registry API, as an agent in a pod does.
        { overHttp: true },
      );
      await step2Asked;
      const killed = agentPid()!;
      process.kill(killed, 'SIGKILL');
      release();

      const outcome = await handle.result();
      assert.equal(outcome.status, 'completed');
      assert.notEqual(agentPid(), killed, 'the lifecycle started a new agent process');
      assert.equal(step2Calls, 2, 'the call in flight when the agent died was asked again, once');
      // Every LLM call completed exactly once in history, and its tokens count once.
      const events = (await handle.fetchHistory()).events ?? [];
      assert.deepEqual(completedActivities(events), ['callModel', 'callTool', 'callModel', 'callTool', 'callModel']);
      assert.equal(outcome.tokens, 100 + 10 + 200 + 20 + 300 + 30);
      // The step's commit is on the workspace's main, naming the step and the agent.
      const files = (await git(workspace.repo, ['ls-tree', '--name-only', 'main'])).trim().split('\n');
      assert.deepEqual(files.sort(), ['one.txt', 'two.txt']);
      assert.equal(outcome.result?.commit, (await git(workspace.repo, ['rev-parse', 'main'])).trim());
      const message = await git(workspace.repo, ['log', '-1', '--format=%B', 'main']);
      assert.match(message, /^Write two files/);
      assert.match(message, new RegExp(`Agent: ${prefix}dev-001`));
    });

    it('refuses a tool outside the allowlist with a clear failure, and the agent lives on', async () => {
      const pid = agentPid();
      const { handle } = await startTask('Move a file', () => ({
        text: '',
        toolCalls: [call('move_file', { source: 'a', destination: 'b' })],
      }));
      assert.match(
        await firstFailure(handle),
        /tool "move_file" is not allowed for this agent \(allowed: read_text_file/,
      );
      assert.equal(agentPid(), pid, 'the same agent process');
    });

    for (const [name, path] of [
      ['a relative path out', '../outside.txt'],
      ['an absolute path', '/tmp/vapora-escape.txt'],
      ['a symlink out', 'link/escape.txt'],
    ] as const) {
      it(`refuses ${name} of the workspace before the server sees it`, async () => {
        const { handle } = await startTask(
          `Escape by ${name}`,
          () => ({ text: '', toolCalls: [call('write_file', { path, content: 'escaped' })] }),
          {
            prepare: (repo) =>
              path.startsWith('link/') ? addSymlink(repo, 'link', tempDir('outside')) : Promise.resolve(),
          },
        );
        assert.match(
          await firstFailure(handle),
          new RegExp(
            `tool "write_file" was asked for "${path.replace(/[./]/g, '\\$&')}", outside the task's workspace`,
          ),
        );
        assert.ok(!existsSync('/tmp/vapora-escape.txt'));
      });
    }

    it('fails clearly when a tool server crashes mid-call, and the agent lives on', async () => {
      const pid = agentPid();
      const { handle } = await startTask('Crash the tool server', () => ({ text: '', toolCalls: [call('crash', {})] }));
      assert.match(await firstFailure(handle), /MCP server "crashing" failed on crash/);
      assert.equal(agentPid(), pid, 'the same agent process');
    });
  },
);

/** Commits a symlink to `target` into the workspace (it is in every clone made after). */
async function addSymlink(repo: string, name: string, target: string): Promise<void> {
  const work = tempDir('link');
  await git(work, ['clone', '--quiet', repo, 'w']);
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, 'keep.txt'), 'outside\n');
  symlinkSync(target, join(work, 'w', name));
  await git(join(work, 'w'), ['add', name]);
  await git(join(work, 'w'), ['commit', '--quiet', '-m', 'a symlink out']);
  await git(join(work, 'w'), ['push', '--quiet', 'origin', 'HEAD:main']);
}
