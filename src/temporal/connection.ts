import { connect as tcpConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { status, type Interceptor } from '@grpc/grpc-js';
import { Connection, ServiceError, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { splitHostPort } from '../host/ports';
import type { TemporalConnectionSettings } from './client-profile';

/** A Temporal frontend and how to reach it; `config.temporal` is one. */
export interface TemporalEndpoint {
  address: string;
  connection?: TemporalConnectionSettings;
}

/** The same options for the client's connection and the worker's: the profile's TLS, API key and metadata. */
const optionsOf = ({ address, connection }: TemporalEndpoint) => ({ ...connection, address });

const sdkRetries = defaultGrpcRetryOptions();
const retryAll = makeGrpcRetryInterceptor(sdkRetries);
const retryUpdates = makeGrpcRetryInterceptor({
  ...sdkRetries,
  retryableDecider: (attempt, answer) =>
    answer.code !== status.RESOURCE_EXHAUSTED && sdkRetries.retryableDecider(attempt, answer),
});
/**
 * The SDK's retries, except for an Update the server refuses because the workflow has its fill of updates in flight
 * (RESOURCE_EXHAUSTED): the caller hears of it at once, and a task submission takes the durable way in instead
 * (see submitTask); an approval is sent again a moment later (see sendVerdict).
 */
const retries: Interceptor = (options, next) =>
  (options.method_definition.path.endsWith('/UpdateWorkflowExecution') ? retryUpdates : retryAll)(options, next);

/** A client connection (workflow, operator and health services). */
export function temporalConnection(temporal: TemporalEndpoint, { connectTimeout = 10_000 } = {}): Promise<Connection> {
  return Connection.connect({ ...optionsOf(temporal), connectTimeout, interceptors: [retries] }).catch(
    async (error: unknown) => {
      // grpc-js says only "Failed to connect before the deadline" when the channel never got ready; a socket says why.
      throw new TemporalUnreachable(temporal, error, error instanceof ServiceError ? undefined : await probe(temporal));
    },
  );
}

/** A worker's connection (the SDK core's), for `Worker.create` and the clients beside it. */
export async function nativeConnection(temporal: TemporalEndpoint): Promise<NativeConnection> {
  // Loaded here, so a process that is only a client (the CLI) never loads the worker's native runtime.
  const { NativeConnection } = await import('@temporalio/worker');
  return NativeConnection.connect(optionsOf(temporal)).catch((error: unknown) => {
    throw new TemporalUnreachable(temporal, error);
  });
}

/** Names the address and how it was tried (never a secret), then each reason the SDK gave. */
export class TemporalUnreachable extends Error {
  override readonly name = 'TemporalUnreachable';
  constructor(temporal: TemporalEndpoint, cause: unknown, found?: string) {
    const reasons: string[] = [];
    // "Failed to connect to Temporal server" wraps the gRPC status that says why.
    for (let e: unknown = cause; e instanceof Error; e = e.cause) {
      const line = e.message.split('\n')[0]!;
      if (!reasons.includes(line)) reasons.push(line);
    }
    if (found) reasons.push(found);
    super(`Temporal does not answer at ${temporal.address} (${security(temporal.connection)}): ${reasons.join(': ')}`, {
      cause,
    });
  }
}

/** "plain gRPC", "TLS", "TLS with a client certificate", "TLS, API key" …: what a person checks first. */
function security({ tls, apiKey, metadata }: TemporalConnectionSettings = {}): string {
  const parts = [!tls ? 'plain gRPC' : tls !== true && tls.clientCertPair ? 'TLS with a client certificate' : 'TLS'];
  if (apiKey) parts.push('API key');
  if (metadata && Object.keys(metadata).length) parts.push(`gRPC headers ${Object.keys(metadata).join(', ')}`);
  return parts.join(', ');
}

/** What a bare socket (a TLS handshake, with TLS) finds at the address: refused, an untrusted certificate, a TLS port. */
function probe({ address, connection }: TemporalEndpoint): Promise<string | undefined> {
  const { host, port } = splitHostPort(address);
  const tls = connection?.tls;
  const own = typeof tls === 'object' ? tls : {};
  const socket = tls
    ? tlsConnect({
        host,
        port,
        servername: own.serverNameOverride ?? (isIP(host) ? undefined : host),
        ALPNProtocols: ['h2'],
        ca: own.serverRootCACertificate && Buffer.from(own.serverRootCACertificate),
        cert: own.clientCertPair && Buffer.from(own.clientCertPair.crt),
        key: own.clientCertPair && Buffer.from(own.clientCertPair.key),
      })
    : tcpConnect({ host, port });
  return new Promise((resolve) => {
    const done = (found: string | undefined) => {
      socket.destroy();
      resolve(found);
    };
    socket.setTimeout(2000, () => done(`no answer within 2 s`));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(error.code === 'ECONNREFUSED' ? 'connection refused' : `${tls ? 'TLS: ' : ''}${error.message}`),
    );
    socket.once(tls ? 'secureConnect' : 'connect', () =>
      done(
        tls
          ? undefined
          : 'something listens there, but not plain gRPC: a TLS port? (TEMPORAL_TLS=true, or tls in the profile)',
      ),
    );
  });
}
