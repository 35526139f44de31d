import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../../config';
import { ApiAuth } from '../../control-plane/api-auth';
import { parse } from '../../domain';
import { codecServer, webUiOrigins } from '../../temporal/codec-server';
import { AesGcmCodec, parseCodecKeys } from '../../temporal/payload-codec';
import { printJson } from '../output';
import { stopSignal } from '../stop-signal';

export function registerCodecServer(program: Command): void {
  program
    .command('codec-server')
    .description(
      "serve the payload codec for a Temporal Web UI (its codec endpoint) or `temporal workflow show --codec-endpoint`: encrypted payloads shown decoded (vapora up's control plane serves one already)",
    )
    .option('--port <port>', 'where it listens, on loopback', '8281')
    .option(
      '--origin <url...>',
      'the Web UI origins allowed to call it (default: http://localhost:<TEMPORAL_UI_PORT> and http://127.0.0.1:<TEMPORAL_UI_PORT>)',
    )
    .option('--json', 'print the endpoint as JSON')
    .action(async (o: { port: string; origin?: string[]; json?: boolean }) => {
      const config = loadConfig();
      if (!config.temporal.codecKeys)
        throw new Error('no payload keys: set VAPORA_CODEC_KEYS, or run it where vapora up keeps its state');
      const port = parse(z.coerce.number().int().min(1).max(65_535), o.port, '--port');
      const origins = o.origin ?? webUiOrigins(config.temporal.uiPort);
      const token = ApiAuth.of(config.stateDir).codecToken();
      const app = codecServer(new AesGcmCodec(parseCodecKeys(config.temporal.codecKeys)), { token, origins });
      const server = createAdaptorServer({ fetch: app.fetch }) as Server;
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
      const endpoint = `http://127.0.0.1:${port}/${token}`;
      if (o.json) printJson({ endpoint, origins });
      else
        console.log(
          `codec endpoint ${endpoint}\n  for the Web UI (origins ${origins.join(', ')}) and temporal workflow show --codec-endpoint`,
        );
      await stopSignal();
      server.close();
    });
}
