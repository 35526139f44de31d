import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import {
  loadClientConfig,
  loadClientConfigProfile,
  type ClientConfigProfile,
  type ClientConfigTLS,
  type ConfigDataSource,
} from '@temporalio/envconfig';
import { ValidationError } from '../domain';

/** How a connection reaches Temporal beyond its address. Secrets: kept in memory, never logged or printed. */
export interface TemporalConnectionSettings {
  tls?: TLSConfig | boolean;
  apiKey?: string;
  /** gRPC headers sent with every call (`grpc_meta`, `TEMPORAL_GRPC_META_<NAME>`). */
  metadata?: Record<string, string>;
}

/** What the Temporal client profile says, the TEMPORAL_* variables over the file's values. */
export interface TemporalProfile {
  /** Unset when neither a variable nor the profile names a server. */
  address?: string;
  namespace?: string;
  connection: TemporalConnectionSettings;
}

const DEFAULT_FILE = 'the default temporal.toml (~/.config/temporalio/ on Linux)';

/**
 * The client profile as the Temporal CLI and SDKs read it (`@temporalio/envconfig`):
 * TEMPORAL_PROFILE (else "default") of TEMPORAL_CONFIG_FILE (else the default
 * file, if there is one), under TEMPORAL_ADDRESS, TEMPORAL_TLS_* and the rest.
 * Certificates and keys are read here, so a bad one stops a process at start,
 * named by its variable or its key in the file.
 */
export function loadTemporalProfile(env: NodeJS.ProcessEnv): TemporalProfile {
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const path = vars.TEMPORAL_CONFIG_FILE;
  const file = path ? `TEMPORAL_CONFIG_FILE (${path})` : DEFAULT_FILE;
  // envconfig skips a missing file silently; one a person named must be there.
  const configSource = path
    ? { data: attempt(() => readFileSync(path), `TEMPORAL_CONFIG_FILE: cannot read ${path}`) }
    : undefined;
  const { profiles } = attempt(() => loadClientConfig({ configSource, overrideEnvVars: vars }), file);
  const name = vars.TEMPORAL_PROFILE;
  if (name !== undefined && !profiles[name]) {
    const known = Object.keys(profiles).map((p) => `"${p}"`);
    throw invalid(
      `TEMPORAL_PROFILE: no profile "${name}" in ${file} (${known.length ? `it has ${known.join(', ')}` : 'none there'})`,
    );
  }
  const where = `profile "${name ?? 'default'}" of ${file}`;
  const profile: ClientConfigProfile = attempt(
    () => loadClientConfigProfile({ configSource, overrideEnvVars: vars }),
    `the TEMPORAL_TLS_* variables over ${where}`,
  );
  return {
    address: profile.address,
    namespace: profile.namespace,
    connection: {
      tls: tlsSettings(profile, vars, where),
      apiKey: profile.apiKey,
      metadata: profile.grpcMeta,
    },
  };
}

/** The certificates and keys of the profile's `tls`, each named by its variable, or its key in the file, when it is bad. */
const TLS_SOURCES = {
  serverCACert: { variable: 'TEMPORAL_TLS_SERVER_CA_CERT', key: 'server_ca_cert', what: 'server CA certificate' },
  clientCert: { variable: 'TEMPORAL_TLS_CLIENT_CERT', key: 'client_cert', what: 'client certificate' },
  clientKey: { variable: 'TEMPORAL_TLS_CLIENT_KEY', key: 'client_key', what: 'client key' },
} as const;

type TlsSource = (typeof TLS_SOURCES)[keyof typeof TLS_SOURCES];

/** As envconfig's own: no `tls` means plain gRPC unless an API key asks for TLS; `disabled` means plain. */
function tlsSettings(
  profile: ClientConfigProfile,
  vars: Record<string, string>,
  where: string,
): TLSConfig | boolean | undefined {
  const tls: ClientConfigTLS | undefined = profile.tls;
  if (!tls) return profile.apiKey !== undefined ? true : undefined;
  if (tls.disabled) return false;
  const problems: string[] = [];
  const named = (s: TlsSource, form: 'PATH' | 'DATA') =>
    vars[`${s.variable}_${form}`] !== undefined
      ? `${s.variable}_${form}`
      : `tls.${s.key}_${form.toLowerCase()} in ${where}`;
  const pem = (source: ConfigDataSource | undefined, s: TlsSource): Uint8Array | undefined => {
    if (!source) return undefined;
    const name = named(s, 'path' in source ? 'PATH' : 'DATA');
    try {
      const bytes =
        'path' in source
          ? readFileSync(source.path)
          : typeof source.data === 'string'
            ? Buffer.from(source.data)
            : source.data;
      // Without this, a wrong file shows up later as a TLS handshake failure that names nothing.
      if (!Buffer.from(bytes).toString('latin1').includes('-----BEGIN '))
        problems.push(`${name}: the ${s.what} is not PEM (no "-----BEGIN" line)`);
      return bytes;
    } catch (error) {
      problems.push(`${name}: cannot read the ${s.what} (${reason(error)})`);
      return undefined;
    }
  };
  const serverRootCACertificate = pem(tls.serverCACert, TLS_SOURCES.serverCACert);
  const crt = pem(tls.clientCert, TLS_SOURCES.clientCert);
  const key = pem(tls.clientKey, TLS_SOURCES.clientKey);
  const given = tls.clientCert ?? tls.clientKey;
  if (given && !(tls.clientCert && tls.clientKey)) {
    const [has, lacks] = tls.clientCert
      ? [TLS_SOURCES.clientCert, TLS_SOURCES.clientKey]
      : [TLS_SOURCES.clientKey, TLS_SOURCES.clientCert];
    problems.push(
      `${named(has, 'path' in given ? 'PATH' : 'DATA')}: the ${has.what} needs the ${lacks.what} too (${lacks.variable}_PATH, or tls.${lacks.key}_path)`,
    );
  }
  if (problems.length) throw new ValidationError('environment', problems);
  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate,
    clientCertPair: crt && key ? { crt, key } : undefined,
  };
}

function attempt<T>(work: () => T, subject: string): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw invalid(`${subject}: ${reason(error)}`);
  }
}

const invalid = (problem: string) => new ValidationError('environment', [problem]);

/** The first line of what went wrong (a TOML error goes on with a picture of the line: its number is enough). */
function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code) return code === 'ENOENT' ? 'no such file' : code;
  const line = (error as { line?: unknown }).line;
  const first = String(error instanceof Error ? error.message : error).split('\n')[0]!;
  return typeof line === 'number' ? `${first} (line ${line})` : first;
}
