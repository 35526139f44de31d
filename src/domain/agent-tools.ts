import { z } from 'zod';

/** Stands for the task's workspace (its feature's git working copy) in an MCP server's arguments. */
export const WORKSPACE_PLACEHOLDER = '${workspace}';

const ServerName = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be a short lowercase name such as "workspace"');

/** Vapora's own MCP server (shared context: search_context, get_artifact, …), at the stack's API `/mcp`. */
export const VAPORA_MCP_SERVER = 'vapora';

/**
 * An MCP server the agent starts (a stdio command) or reaches (a Streamable
 * HTTP URL), or Vapora's own, named alone: the same server any MCP client
 * reaches, so agents and people share context through one path.
 */
export const McpServer = z.union(
  [
    z.strictObject({ name: z.literal(VAPORA_MCP_SERVER) }),
    z.strictObject({
      name: ServerName,
      command: z.string().min(1),
      args: z.array(z.string()).default([]),
    }),
    z.strictObject({
      name: ServerName,
      url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL of a Streamable HTTP MCP endpoint' }),
    }),
  ],
  {
    error: `must have either a command (stdio) or a url (Streamable HTTP), not both; or be "name: ${VAPORA_MCP_SERVER}" alone`,
  },
);
export type McpServer = z.infer<typeof McpServer>;

/** Each value once: a repeated one is named by its place. */
const unique =
  <T>(label: (item: T) => string, what: string) =>
  (items: T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(label(item)))
        ctx.addIssue({ code: 'custom', path: [i], message: `${what} "${label(item)}" is listed twice` });
      seen.add(label(item));
    });
  };

/** The tools an agent may call: the MCP servers it uses and an allowlist of their tool names. */
export const AgentTools = z.object({
  mcp_servers: z
    .array(McpServer)
    .min(1, 'declare at least one MCP server, or leave tools out')
    .superRefine(unique((s) => s.name, 'server')),
  /** Tool names as the servers name them; any other tool the servers offer is neither shown nor callable. */
  allow: z
    .array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a tool name such as "read_text_file"'))
    .min(1, 'allow at least one tool')
    .superRefine(unique((name) => name, 'tool')),
  /** LLM calls in one task at most: the loop ends there (with the last answer) even if the model wants more tools. */
  max_steps: z.number().int().min(1).max(100).default(12),
});
export type AgentTools = z.infer<typeof AgentTools>;
