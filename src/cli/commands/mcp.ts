import type { Command } from 'commander';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { EventBus } from '../../bus/event-bus';
import { featureStatus } from '../../client/feature-status';
import { vaporaMcpServer } from '../../client/mcp-server';
import { RegistryClient } from '../../client/registry-client';
import { loadConfig } from '../../config';
import { withClient } from '../temporal-client';

export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description(
      'serve Vapora as an MCP server over stdio (for Claude Desktop, an IDE, the MCP Inspector): shared-context search, ' +
        'artifacts, knowledge, features, agents, help and decisions; the stack serves the same at http://<api>/mcp',
    )
    .option('--json', 'stdio speaks JSON-RPC already; accepted for symmetry with the other commands')
    .action(async () => {
      const config = loadConfig();
      const bus = await EventBus.connect(config.nats, { name: 'vapora-mcp', manageStreams: false });
      await withClient(config, async (client) => {
        const server = vaporaMcpServer({
          registry: RegistryClient.of(config.api),
          featureStatus: (id) => featureStatus(client, id),
          bus,
        });
        const transport = new StdioServerTransport();
        const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
        await server.connect(transport);
        // stdout is the protocol's: nothing else is written there until the client hangs up.
        await Promise.race([closed, new Promise<void>((resolve) => process.stdin.once('end', resolve))]);
        await server.close();
      });
      await bus.close();
    });
}
