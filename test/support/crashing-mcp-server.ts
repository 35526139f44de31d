// A real MCP server (stdio) whose one tool kills the server: what an agent meets when a tool's server crashes.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

const server = new McpServer({ name: 'crashing', version: '1.0.0' });
server.registerTool('crash', { description: 'Exits the server process in the middle of the call' }, () =>
  process.exit(3),
);
await server.connect(new StdioServerTransport());
