import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AGENT_ROLES,
  AgentMessage,
  AgentManifest,
  AgentMetadata,
  AgentStatus,
  SUBJECTS,
  ValidationError,
  SemVer,
  parse,
} from '../src/domain';
import { agentMetadata, developerManifest } from './support/fixtures';

/** Asserts that parsing fails with a problem line that starts with `path:` and mentions `rule`. */
function rejects(schema: Parameters<typeof parse>[0], value: unknown, path: string, rule: RegExp) {
  assert.throws(
    () => parse(schema, value, 'input'),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      const line = error.problems.find((p) => p.startsWith(`${path}:`));
      assert.ok(line, `no problem for ${path} in:\n${error.message}`);
      assert.match(line, rule);
      return true;
    },
  );
}

describe('agent roles', () => {
  it('has the 13 roles of the spec', () => {
    assert.equal(AGENT_ROLES.length, 13);
    assert.ok(
      AGENT_ROLES.includes('decision-maker') &&
        AGENT_ROLES.includes('orchestrator') &&
        AGENT_ROLES.includes('code-reviewer'),
    );
  });
});

describe('AgentStatus', () => {
  it('accepts the unit variants and Error with a message', () => {
    for (const s of ['Active', 'Inactive', 'Updating', 'Scaling', { Error: 'health check timed out' }])
      parse(AgentStatus, s, 'status');
  });
  it('rejects Error without a message and unknown states', () => {
    assert.throws(() => parse(AgentStatus, { Error: '' }, 'status'), ValidationError);
    assert.throws(() => parse(AgentStatus, 'Sleeping', 'status'), ValidationError);
  });
});

describe('AgentManifest', () => {
  it('accepts a valid manifest and applies defaults', () => {
    const m = parse(AgentManifest, developerManifest(), 'manifest');
    assert.equal(m.resources.gpu, 0);
    assert.deepEqual(m.skills, []);
    assert.equal(m.documentation, '');
  });
  it('names the field and the rule for each bad value', () => {
    rejects(AgentManifest, developerManifest({ version: '1.0' }), 'version', /semantic version/);
    rejects(AgentManifest, developerManifest({ role: 'wizard' as never }), 'role', /Invalid option/);
    rejects(
      AgentManifest,
      developerManifest({ docker_image: 'Vapora/Agents::dev' }),
      'docker_image',
      /image reference.*got "Vapora\/Agents::dev"/,
    );
    rejects(
      AgentManifest,
      developerManifest({ resources: { cpu: 'lots', memory: '1Gi' } }),
      'resources.cpu',
      /quantity/,
    );
    rejects(
      AgentManifest,
      developerManifest({ health_check_endpoint: 'health' }),
      'health_check_endpoint',
      /absolute HTTP path/,
    );
    rejects(AgentManifest, developerManifest({ capabilities: [] }), 'capabilities', /at least one capability/);
    rejects(
      AgentManifest,
      developerManifest({ dependencies: [{ agent_id: 'architect', role: 'architect', min_version: 'latest' }] }),
      'dependencies.0.min_version',
      /semantic version/,
    );
  });
  it('refuses invalid tool declarations at install, naming every problem', () => {
    const error = (() => {
      try {
        parse(
          AgentManifest,
          developerManifest({
            tools: {
              mcp_servers: [
                { name: 'workspace', command: 'mcp-server-filesystem', url: 'http://127.0.0.1:9/mcp' },
                { name: 'Docs Server', url: 'ftp://example.test' },
                { name: 'git', command: 'mcp-server-git' },
                { name: 'docs' } as unknown as { name: 'vapora' }, // only Vapora's own server is named alone
              ],
              allow: ['read_text_file', 'rm -rf', 'read_text_file'],
              max_steps: 0,
            },
          }),
          'manifest',
        );
      } catch (e) {
        return e as ValidationError;
      }
    })();
    assert.ok(error, 'refused');
    const problems = error.problems.join('\n');
    assert.match(problems, /tools\.mcp_servers\.0: must have either a command \(stdio\) or a url/);
    assert.match(problems, /tools\.mcp_servers\.1\.(name|url): /);
    assert.match(problems, /tools\.mcp_servers\.3: .*or be "name: vapora" alone/);
    assert.match(problems, /tools\.allow\.1: must be a tool name/);
    assert.match(problems, /tools\.allow\.2: tool "read_text_file" is listed twice/);
    assert.match(problems, /tools\.max_steps: Too small/);
    const git = { name: 'git', command: 'mcp-server-git' };
    rejects(
      AgentManifest,
      developerManifest({ tools: { mcp_servers: [git, git], allow: ['git_status'] } }),
      'tools.mcp_servers.1',
      /server "git" is listed twice/,
    );
    const ok = parse(
      AgentManifest,
      developerManifest({
        tools: {
          mcp_servers: [
            { name: 'workspace', command: 'mcp-server-filesystem', args: ['${workspace}'] },
            { name: 'vapora' },
          ],
          allow: ['write_file', 'search_context'],
        },
      }),
      'manifest',
    );
    assert.equal(ok.tools?.max_steps, 12);
    assert.deepEqual(ok.tools?.mcp_servers[1], { name: 'vapora' });
  });
  it('refuses self and duplicate dependencies', () => {
    rejects(
      AgentManifest,
      developerManifest({ dependencies: [{ agent_id: 'developer', role: 'developer', min_version: '0.1.0' }] }),
      'dependencies.0.agent_id',
      /itself/,
    );
    const dep = { agent_id: 'architect', role: 'architect' as const, min_version: '0.1.0' };
    rejects(AgentManifest, developerManifest({ dependencies: [dep, dep] }), 'dependencies.1.agent_id', /duplicate/);
  });
  it('lists every problem at once', () => {
    const error = (() => {
      try {
        parse(AgentManifest, developerManifest({ version: 'x', max_concurrent_tasks: 0, id: '-bad id' }), 'manifest');
      } catch (e) {
        return e as ValidationError;
      }
    })();
    assert.ok(error);
    assert.deepEqual(error.problems.map((p) => p.split(':')[0]).sort(), ['id', 'max_concurrent_tasks', 'version']);
  });
  it('accepts registry hosts, digests and nested paths in image references', () => {
    for (const image of [
      'ghcr.io/vapora/agents:developer-0.1.0',
      'localhost:5000/agents/dev',
      `vapora/agents@sha256:${'a'.repeat(64)}`,
    ]) {
      assert.equal(parse(AgentManifest, developerManifest({ docker_image: image }), 'manifest').docker_image, image);
    }
  });
});

describe('semantic versions', () => {
  it('accepts semantic versions and refuses what only looks like one, naming the rule', () => {
    for (const v of ['0.10.0', '1.0.0-alpha.1', '1.0.0-beta.11', '1.0.0-rc.1+build.5'])
      assert.equal(SemVer.parse(v), v);
    for (const v of ['v1.2.3', '1.2', '01.2.3', '1.2.3-']) {
      assert.match(SemVer.safeParse(v).error?.issues[0]?.message ?? '', /must be a semantic version/, v);
    }
  });
});

describe('AgentMetadata', () => {
  it('requires uptime as a percentage', () => {
    const agent = agentMetadata('developer-001');
    assert.equal(parse(AgentMetadata, agent, 'agent').uptime_percentage, 100);
    rejects(AgentMetadata, { ...agent, uptime_percentage: 140 }, 'uptime_percentage', /<=100/);
    rejects(AgentMetadata, { ...agent, created_at: 'yesterday' }, 'created_at', /datetime/);
  });
});

describe('AgentMessage', () => {
  const now = new Date().toISOString();
  const samples: AgentMessage[] = [
    {
      type: 'TaskAssigned',
      task_id: 't1',
      agent_id: 'a1',
      context: { task_id: 't1', role: 'developer', title: 'Do it', description: '', priority: 'normal', inputs: {} },
      deadline: now,
    },
    { type: 'TaskStarted', task_id: 't1', agent_id: 'a1', timestamp: now },
    { type: 'TaskProgress', task_id: 't1', agent_id: 'a1', progress_percent: 50, current_step: 'writing' },
    {
      type: 'TaskCompleted',
      task_id: 't1',
      agent_id: 'a1',
      result: { success: true, summary: 'done', artifacts: [] },
      tokens_used: 10,
      duration_ms: 5,
    },
    { type: 'TaskFailed', task_id: 't1', agent_id: 'a1', error: 'boom', retry_count: 1 },
    { type: 'RequestHelp', from_agent: 'a1', to_roles: ['architect'], context: 'which db?', deadline: now },
    {
      type: 'HelpOffered',
      from_agent: 'a2',
      to_agent: 'a1',
      capability: { id: 'design-adr', name: 'ADR', description: '', complexity: 'High' },
    },
    { type: 'ShareContext', from_agent: 'a1', to_roles: [], context_type: 'decision', data: { x: 1 }, ttl_minutes: 5 },
    {
      type: 'RequestDecision',
      from_agent: 'a1',
      decision_type: 'escalation',
      context: 'late',
      options: ['retry', 'abort'],
    },
    {
      type: 'DecisionMade',
      decision_id: 'd1',
      decision: 'retry',
      reasoning: 'transient',
      made_by: 'decision-maker-001',
    },
    { type: 'Heartbeat', agent_id: 'a1', status: 'Active', load: 0.5 },
    {
      type: 'AgentStatusChanged',
      agent_id: 'a1',
      from: 'Active',
      to: { Error: 'unhealthy' },
      reason: '3 failed checks',
      timestamp: now,
    },
  ];
  it('has 12 variants, each with a subject, and accepts each', () => {
    assert.equal(AgentMessage.options.length, 12);
    assert.equal(new Set(samples.map((s) => s.type)).size, 12);
    for (const s of samples) {
      assert.deepEqual(parse(AgentMessage, s, s.type), s);
      assert.match(SUBJECTS[s.type], /^vapora\.(tasks|agent)\./);
    }
  });
  it('names the bad field of a variant', () => {
    rejects(AgentMessage, { type: 'Heartbeat', agent_id: 'a1', status: 'Active', load: 1.5 }, 'load', /<=1/);
    rejects(
      AgentMessage,
      { type: 'TaskProgress', task_id: 't', agent_id: 'a', progress_percent: 101, current_step: '' },
      'progress_percent',
      /<=100/,
    );
    rejects(AgentMessage, { type: 'Gossip' }, 'type', /Invalid/);
  });
});
