import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { z } from 'zod';
import { AgentRole } from '../domain';
import { askForHelp, type EventBus } from '../bus/event-bus';
import type { FeatureStatus } from '../contracts/feature-input';
import type { RegistryClient } from './registry-client';
import { VAPORA_VERSION } from '../host/project';

/** What the server reaches the stack through: the registry API, a feature's status, and the bus. */
export interface McpDeps {
  registry: RegistryClient;
  featureStatus: (featureId: string) => Promise<FeatureStatus>;
  bus: EventBus;
}

const json = (value: unknown) => ({ content: [{ type: 'text' as const, text: JSON.stringify(value, null, 2) }] });
const fail = (message: string) => ({ content: [{ type: 'text' as const, text: message }], isError: true });

/**
 * Vapora as an MCP server: the shared context (search, artifacts, knowledge),
 * features and agents, and requests for help and decisions, as tools and
 * resources. `vapora mcp` serves it over stdio, the control plane over
 * Streamable HTTP at `/mcp`; any MCP client sees the same tools. Arguments
 * are checked by their zod schemas, so a bad one is an error naming the field.
 */
export function vaporaMcpServer({ registry, featureStatus, bus }: McpDeps): McpServer {
  const server = new McpServer({ name: 'vapora', version: VAPORA_VERSION });

  server.registerTool(
    'search_context',
    {
      description:
        "Search the agents' shared context (artifacts such as ADRs, code and reviews, and shared knowledge) by words; passages ranked by BM25, each with its source",
      inputSchema: {
        query: z.string().min(1).describe('what to look for'),
        feature: z.string().min(1).optional().describe('only what one feature wrote'),
        k: z.number().int().min(1).max(50).default(5).describe('how many passages'),
      },
    },
    async ({ query, feature, k }) => json(await registry.searchContext({ q: query, feature_id: feature, k })),
  );
  server.registerTool(
    'share_knowledge',
    {
      description: 'Share a fact with the agents of a feature (or everyone): stored with a time to live and searchable',
      inputSchema: {
        key: z.string().min(1).describe('"<feature>/<topic>": the part before the last "/" is its scope'),
        context_type: z.string().min(1).describe('what kind of fact, e.g. "decision", "constraint"'),
        from: z.string().min(1).describe('who shares it'),
        data: z.unknown().describe('the fact: text, or a JSON value'),
        to_roles: z.array(AgentRole).default([]).describe('the roles it is for; none for everyone'),
        ttl_minutes: z.number().int().min(1).max(525_600).default(1_440),
      },
    },
    async ({ key, context_type, from, data, to_roles, ttl_minutes }) =>
      json(await registry.shareKnowledge({ key, context_type, from_agent: from, data, to_roles, ttl_minutes })),
  );
  server.registerTool(
    'get_artifact',
    {
      description: 'One artifact, whole: an ADR, code with its diff, a review',
      inputSchema: { id: z.string().min(1) },
    },
    async ({ id }) => {
      const artifact = await registry.artifact(id);
      return artifact ? json(artifact) : fail(`no artifact ${id}`);
    },
  );
  server.registerTool(
    'list_artifacts',
    {
      description: 'Artifacts without their content, by feature, step (task) or kind',
      inputSchema: {
        feature: z.string().min(1).optional(),
        task: z.string().min(1).optional(),
        kind: z.string().min(1).optional(),
      },
    },
    async ({ feature, task, kind }) => json(await registry.artifacts({ feature_id: feature, task_id: task, kind })),
  );
  server.registerTool(
    'feature_status',
    {
      description: "A feature's phase, steps, pending approval, decisions, costs and workspace",
      inputSchema: { feature: z.string().min(1).describe('its id, with or without "feature-"') },
    },
    async ({ feature }) => json(await featureStatus(feature.replace(/^feature-/, ''))),
  );
  server.registerTool(
    'list_agents',
    {
      description: 'The agents of the fleet: role, status, load, instance',
      inputSchema: { role: AgentRole.optional() },
    },
    async ({ role }) => json((await registry.agents()).filter((a) => !role || a.role === role)),
  );
  server.registerTool(
    'get_context',
    {
      description:
        "An agent's state (the spec's get_context): its record, the tasks it works on and its last ones, the decisions on them, and the shared knowledge meant for its role",
      inputSchema: { agent_id: z.string().min(1) },
    },
    async ({ agent_id }) => {
      const agent = await registry.agent(agent_id);
      if (!agent) return fail(`no agent ${agent_id} (list_agents)`);
      const tasks = (await registry.tasks({ agent_id })).sort((a, b) => b.created_at.localeCompare(a.created_at));
      const current = tasks.filter((t) => t.status === 'assigned' || t.status === 'running');
      const recent = tasks.filter((t) => !current.includes(t)).slice(0, 5);
      const decisions = (
        await Promise.all([...current, ...recent].map((t) => registry.decisions({ task_id: t.id })))
      ).flat();
      const knowledge = (await registry.knowledge({ role: agent.role })).slice(-10);
      return json({ agent, current_tasks: current, recent_tasks: recent, decisions, knowledge });
    },
  );
  server.registerTool(
    'request_help',
    {
      description: 'Ask the agents of some roles for help; the first offer (or none within the wait) is the answer',
      inputSchema: {
        from: z.string().min(1),
        roles: z.array(AgentRole).min(1),
        context: z.string().min(1),
        wait_secs: z.number().int().min(1).max(60).default(5),
      },
    },
    async ({ from, roles, context, wait_secs }) => {
      const deadline = new Date(Date.now() + wait_secs * 1000).toISOString();
      const reply = await askForHelp(
        bus,
        { type: 'RequestHelp', from_agent: from, to_roles: roles, context, deadline },
        wait_secs * 1000,
      ).catch(() => undefined);
      return reply ? json(reply) : fail(`no agent of ${roles.join(', ')} offered help within ${wait_secs}s`);
    },
  );
  server.registerTool(
    'request_decision',
    {
      description: 'Ask the DecisionMaker agent to choose among options; its answer names the option and why',
      inputSchema: {
        from: z.string().min(1),
        decision_type: z.string().min(1),
        context: z.string().min(1),
        options: z.array(z.string().min(1)).min(1),
        wait_secs: z.number().int().min(1).max(120).default(30),
      },
    },
    async ({ from, decision_type, context, options, wait_secs }) => {
      const reply = await bus
        .request(
          { type: 'RequestDecision', from_agent: from, decision_type, context, options },
          { timeoutMs: wait_secs * 1000 },
        )
        .catch(() => undefined);
      return reply ? json(reply) : fail(`no DecisionMaker answered within ${wait_secs}s`);
    },
  );

  server.registerResource(
    'artifact',
    new ResourceTemplate('vapora://artifacts/{id}', { list: undefined }),
    { description: 'An artifact, whole', mimeType: 'text/plain' },
    async (uri, { id }) => {
      const artifact = await registry.artifact(String(id));
      if (!artifact) throw new Error(`no artifact ${String(id)}`);
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: artifact.content }] };
    },
  );
  server.registerResource(
    'feature',
    new ResourceTemplate('vapora://features/{id}', { list: undefined }),
    { description: "A feature's status", mimeType: 'application/json' },
    async (uri, { id }) => ({
      contents: [
        { uri: uri.href, mimeType: 'application/json', text: JSON.stringify(await featureStatus(String(id))) },
      ],
    }),
  );
  server.registerResource(
    'agent',
    new ResourceTemplate('vapora://agents/{id}', { list: undefined }),
    { description: 'An agent and its instance', mimeType: 'application/json' },
    async (uri, { id }) => {
      const agent = await registry.agent(String(id));
      if (!agent) throw new Error(`no agent ${String(id)}`);
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(agent) }] };
    },
  );
  return server;
}

/**
 * Streamable HTTP, stateless: each request gets its own server and transport,
 * as the SDK advises without sessions, and reaches the registry with its
 * caller's own token, so the API's checks of who may write what apply.
 */
export function mcpOverHttp({
  registryAs,
  ...deps
}: Omit<McpDeps, 'registry'> & { registryAs: (token: string | undefined) => RegistryClient }): (
  request: Request,
) => Promise<Response> {
  return async (request) => {
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    const token = /^Bearer (\S+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
    await vaporaMcpServer({ ...deps, registry: registryAs(token) }).connect(transport);
    return transport.handleRequest(request);
  };
}
