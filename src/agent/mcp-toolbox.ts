import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ApplicationFailure } from '@temporalio/common';
import { jsonSchema, tool, type ToolSet } from 'ai';
import { WORKSPACE_PLACEHOLDER, type AgentTools, type McpServer } from '../domain';
import { PROJECT_ROOT, VAPORA_VERSION } from '../host/project';

/** Arguments that name files: checked against the workspace before a workspace server sees them. */
const PATH_ARGUMENTS = new Set(['path', 'paths', 'source', 'destination']);

const CALL_TIMEOUT_MS = 60_000;

interface Offered {
  client: Client;
  server: McpServer;
  description?: string;
  inputSchema: object;
  /** The server was started with the workspace as its root. */
  inWorkspace: boolean;
}

export interface ToolOutcome {
  /** What the model reads back: the tool's text, or its error. */
  text: string;
  isError: boolean;
}

const refuse = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

/**
 * The MCP tools one task may call: the manifest's servers, started (stdio)
 * or reached (Streamable HTTP) for the task's workspace, showing only the
 * allowlisted tools. A call outside the allowlist, or naming a path outside
 * the workspace (`../`, absolute, or through a symlink), is refused before
 * any server sees it; the filesystem server's own root check stays behind it.
 */
export class McpToolbox {
  private constructor(
    private readonly tools: Map<string, Offered>,
    private readonly clients: Client[],
    private readonly workspace: string | undefined,
    private readonly allow: string[],
  ) {}

  /** `vaporaMcp` is where Vapora's own MCP server answers (the stack's API `/mcp`), with the agent's credentials. */
  static async open(declared: AgentTools, workspace: string | undefined, vaporaMcp: VaporaMcp): Promise<McpToolbox> {
    const tools = new Map<string, Offered>();
    const clients: Client[] = [];
    const allowed = new Set(declared.allow);
    try {
      for (const server of declared.mcp_servers) {
        const inWorkspace = 'command' in server && server.args.includes(WORKSPACE_PLACEHOLDER);
        if (inWorkspace && !workspace) continue; // a task without a workspace gets no workspace tools
        const client = new Client({ name: 'vapora-agent', version: VAPORA_VERSION });
        const transport = transportFor(server, workspace, vaporaMcp);
        await client.connect(transport).catch((error: Error) => {
          throw new Error(`${server.name}: ${error.message}${said(transport)}`);
        });
        clients.push(client);
        for (const t of (await client.listTools()).tools)
          if (allowed.has(t.name) && !tools.has(t.name))
            tools.set(t.name, { client, server, description: t.description, inputSchema: t.inputSchema, inWorkspace });
      }
    } catch (error) {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      throw ApplicationFailure.create({
        type: 'McpServerFailed',
        message: `could not start the agent's MCP servers: ${(error as Error).message}`,
      });
    }
    return new McpToolbox(tools, clients, workspace, declared.allow);
  }

  /** The tools as the model is offered them: definitions only, Vapora runs each call as an activity. */
  definitions(): ToolSet {
    return Object.fromEntries(
      [...this.tools].map(([name, t]) => [
        name,
        tool({
          description: t.description,
          inputSchema: jsonSchema(t.inputSchema as Parameters<typeof jsonSchema>[0]),
        }),
      ]),
    );
  }

  get names(): string[] {
    return [...this.tools.keys()];
  }

  async call(name: string, input: unknown): Promise<ToolOutcome> {
    const offered = this.tools.get(name);
    if (!offered)
      throw refuse(
        'ToolNotAllowed',
        `tool "${name}" is not allowed for this agent (allowed: ${this.allow.join(', ')})`,
      );
    if (offered.inWorkspace && this.workspace) {
      const escape = pathsOf(input).find((p) => outside(this.workspace!, p));
      if (escape !== undefined)
        throw refuse('PathOutsideWorkspace', `tool "${name}" was asked for "${escape}", outside the task's workspace`);
    }
    let result;
    try {
      result = await offered.client.callTool({ name, arguments: input as Record<string, unknown> }, undefined, {
        timeout: CALL_TIMEOUT_MS,
      });
    } catch (error) {
      throw ApplicationFailure.create({
        type: 'McpServerFailed',
        message: `MCP server "${offered.server.name}" failed on ${name}: ${(error as Error).message}`,
      });
    }
    const content = (result.content ?? []) as { type: string; text?: string }[];
    const text = content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
    return { text, isError: result.isError === true };
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
  }
}

type VaporaMcp = { url: URL; headers: Record<string, string> };

function transportFor(server: McpServer, workspace: string | undefined, vaporaMcp: VaporaMcp): Transport {
  // The agent's token goes to Vapora's own server only, never to a server a manifest names.
  if ('url' in server) return new StreamableHTTPClientTransport(new URL(server.url));
  if (!('command' in server))
    return new StreamableHTTPClientTransport(vaporaMcp.url, { requestInit: { headers: vaporaMcp.headers } });
  const transport = new StdioClientTransport({
    command: server.command,
    args: server.args.map((a) => a.split(WORKSPACE_PLACEHOLDER).join(workspace ?? '')),
    cwd: workspace,
    // Servers installed with Vapora (the filesystem server) run by name; no other variable of the agent leaks in.
    env: {
      ...getDefaultEnvironment(),
      PATH: `${join(PROJECT_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
    },
    stderr: 'pipe',
  });
  const lines: string[] = [];
  STDERR.set(transport, lines);
  transport.stderr?.on('data', (chunk: Buffer) => {
    lines.push(...chunk.toString().trim().split('\n'));
    lines.splice(0, lines.length - 5);
  });
  return transport;
}

/** The last of what a stdio server wrote to stderr: why it would not start, in its words. */
const STDERR = new WeakMap<Transport, string[]>();
function said(transport: Transport): string {
  const lines = STDERR.get(transport) ?? [];
  return lines.length ? ` (it said: ${lines.join(' ').slice(-300)})` : '';
}

function pathsOf(input: unknown): string[] {
  if (typeof input !== 'object' || input === null) return [];
  return Object.entries(input).flatMap(([key, value]) =>
    !PATH_ARGUMENTS.has(key)
      ? []
      : typeof value === 'string'
        ? [value]
        : Array.isArray(value)
          ? value.filter((v): v is string => typeof v === 'string')
          : [],
  );
}

/** Whether `requested` (relative to the workspace, or absolute) lands outside it, symlinks followed. */
function outside(workspace: string, requested: string): boolean {
  const root = realpathSync(workspace);
  const target = resolve(workspace, requested);
  let existing = target;
  while (!existsSync(existing)) existing = dirname(existing);
  const real = join(realpathSync(existing), relative(existing, target));
  return real !== root && !real.startsWith(root + sep);
}
