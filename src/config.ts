import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { readCodecKeys, readOperatorToken } from './state-secrets';
import { ValidationError, parse, type LLMProvider } from './domain';
import { loadTemporalProfile, type TemporalConnectionSettings } from './temporal/client-profile';

const HostPort = z.string().regex(/^[\w.-]+:\d{1,5}$/, 'must be host:port, e.g. "localhost:7233"');
const Port = z.coerce.number().int().min(1).max(65535);
/** A switch as envconfig reads one ("true" or "1" is on), any other value refused rather than read as off. */
const Switch = z.enum(['true', 'false', '1', '0']);

/** Every setting comes from an environment variable; the schema keys are the variable names. */
const Env = z.object({
  VAPORA_STATE_DIR: z.string().min(1).default('.vapora'),
  VAPORA_CACHE_DIR: z
    .string()
    .min(1)
    .default(resolve(homedir(), '.cache', 'vapora')),
  // Set by `vapora up` for the processes of its stack: they exit when it is gone.
  VAPORA_STACK_FILE: z.string().min(1).optional(),
  // Set by the process deployer for each agent it starts: the record naming the instance it keeps.
  VAPORA_AGENT_RECORD: z.string().min(1).optional(),
  TEMPORAL_ADDRESS: HostPort.optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).optional(),
  // A Temporal client profile (TOML, as the Temporal CLI and SDKs read it); the TEMPORAL_* variables override it.
  TEMPORAL_CONFIG_FILE: z.string().min(1).optional(),
  TEMPORAL_PROFILE: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  // envconfig reads anything but "true" or "1" as off: a typo would quietly mean plain gRPC.
  TEMPORAL_TLS: Switch.optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_CERT_DATA: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_KEY_DATA: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_UI_PORT: Port.default(8233),
  VAPORA_TASK_QUEUE: z.string().min(1).default('vapora'),
  VAPORA_WORKFLOW_STACK_TRACES: Switch.default('false'),
  VAPORA_API_PORT: Port.default(8280),
  // In a cluster the API listens beyond loopback and agents reach it by a Service URL.
  VAPORA_API_HOST: z.string().min(1).default('127.0.0.1'),
  VAPORA_API_URL: z.string().url().optional(),
  /** An agent's own token for the API (issued by the control plane at deploy); the CLI reads the operator's from the state directory. */
  VAPORA_AGENT_TOKEN: z.string().min(1).optional(),
  /** Set by the process deployer: the feature workspaces' directory, which an agent on the control plane's machine clones and pushes directly. */
  VAPORA_WORKSPACES_DIR: z.string().min(1).optional(),
  /** A person's token (`vapora token issue --person <name>`): the CLI signs approvals and calls the API as them, not as the operator. */
  VAPORA_TOKEN: z.string().min(1).optional(),
  /** The keys Temporal payloads are encrypted with, `id:base64,…` newest first; else the state directory's `codec-keys`. */
  VAPORA_CODEC_KEYS: z.string().min(1).optional(),
  VAPORA_DEPLOYER: z.enum(['process', 'kubernetes']).default('process'),
  VAPORA_K8S_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name')
    .default('vapora'),
  NATS_URL: z
    .string()
    // No user:password here: the URL is printed and logged; credentials go in a file (NATS_CREDS).
    .regex(
      /^(nats|tls):\/\/[\w.-]+:\d{1,5}$/,
      'must be nats://host:port or tls://host:port (credentials in NATS_CREDS)',
    )
    .optional(),
  /** A NATS credentials file (user JWT and key); else the state directory's `nats-auth/cli.creds`, made by `vapora up`. */
  NATS_CREDS: z.string().min(1).optional(),
  /** The CA that signed the NATS server's certificate, for tls:// servers a system CA did not sign. */
  NATS_CA: z.string().min(1).optional(),
  SURREAL_URL: z
    .string()
    .regex(/^(mem:\/\/|surrealkv:\/\/.+|wss?:\/\/.+)$/, 'must be mem://, surrealkv://<path> or ws://host:port')
    .optional(),
  SURREAL_NAMESPACE: z.string().min(1).default('vapora'),
  SURREAL_DATABASE: z.string().min(1).default('main'),
  SURREAL_USER: z.string().optional(),
  SURREAL_PASS: z.string().optional(),
  // LLM providers: a key (or Ollama's URL) makes a provider available; without any, the offline provider answers.
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_BASE_URL: z.string().url().optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  GEMINI_API_KEY: z.string().min(1).optional(),
  GEMINI_BASE_URL: z.string().url().optional(),
  OLLAMA_BASE_URL: z.string().url().optional(),
  // The control plane's Temporal SDK metrics (Prometheus text at /metrics); set by `vapora up --observability`.
  VAPORA_TEMPORAL_METRICS_PORT: Port.optional(),
  // nats-server's monitoring endpoint (its -m port), exported to Prometheus by the control plane; set by `vapora up --observability`.
  VAPORA_NATS_MONITOR_URL: z.string().url().optional(),
  // Where spans go (OTLP over HTTP, e.g. http://127.0.0.1:4318): tracing is on when it is set.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  // Jaeger's UI, for links to a feature's trace; set by `vapora up --observability`.
  VAPORA_JAEGER_UI: z.string().url().optional(),
  // Where `vapora up --observability` starts Prometheus.
  VAPORA_PROMETHEUS_PORT: Port.default(9090),
  // Vectors beside BM25 in retrieval: "<provider>:<model>" of a configured provider, e.g. "openai:text-embedding-3-small".
  VAPORA_EMBEDDING_MODEL: z
    .string()
    .regex(
      /^(openai|gemini|ollama):\S+$/,
      'must be "<openai|gemini|ollama>:<model>", e.g. "openai:text-embedding-3-small"',
    )
    .optional(),
});

/** The environment variables Vapora reads. */
export const ENV_VARS = Object.keys(Env.shape);

/** Where Vapora finds (or starts) each server. `external` endpoints were named by the user. */
export interface Config {
  stateDir: string;
  cacheDir: string;
  /** The `vapora up` stack this process belongs to, if any (see src/stack/stack-file.ts). */
  stackFile?: string;
  /** The process deployer's record of this agent (see src/deploy/process-deployer.ts), if it started it. */
  agentRecord?: string;
  temporal: {
    address: string;
    namespace: string;
    uiPort: number;
    taskQueue: string;
    /** Whether the control plane's workflows answer the Web UI's "Stack Trace" (`__stack_trace`): a cost per promise. */
    stackTraces: boolean;
    external: boolean;
    /** TLS, API key and gRPC metadata of the client profile, for every connection (src/temporal/connection.ts). */
    connection: TemporalConnectionSettings;
    /** The payload codec's keys; without them payloads travel as plain JSON. */
    codecKeys?: string;
  };
  /** The control-plane worker's registry API: loopback by default; `url` is where agents reach it. */
  api: { port: number; host: string; url: string; token?: string };
  /** Where an agent finds the feature workspaces on its own disk (a local process), rather than over the API's HTTP. */
  workspacesDir?: string;
  /** How agent instances run: local processes, or pods in a Kubernetes namespace (cluster from KUBECONFIG or in-cluster). */
  deployer: { kind: 'process' | 'kubernetes'; namespace: string };
  nats: NatsSettings;
  surreal: { url: string; namespace: string; database: string; username?: string; password?: string };
  /** Configured LLM providers; keys stay here and in request headers, nowhere else. */
  llm: LLMSettings;
  /** Prometheus, and the port the control plane's Temporal SDK serves its metrics on (if any). */
  observability: {
    prometheusPort: number;
    temporalMetricsPort?: number;
    natsMonitorUrl?: string;
    otlpEndpoint?: string;
    jaegerUi?: string;
  };
  /** The model that embeds passages for retrieval, if one is configured (else BM25 alone). */
  embedding?: EmbeddingSettings;
}

export interface NatsSettings {
  url: string;
  external: boolean;
  credsFile?: string;
  caFile?: string;
}

export interface EmbeddingSettings {
  provider: EmbeddingProvider;
  model: string;
  settings: ProviderSettings;
}
export type EmbeddingProvider = 'openai' | 'gemini' | 'ollama';

export interface ProviderSettings {
  apiKey?: string;
  baseUrl?: string;
}
export type LLMSettings = Partial<Record<Exclude<LLMProvider, 'offline'>, ProviderSettings>>;

/** The variable that makes each remote provider available: named to people wherever the offline model stands in. */
export const PROVIDER_VARIABLES: Record<keyof LLMSettings, string> = {
  claude: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  gemini: 'GEMINI_API_KEY',
  ollama: 'OLLAMA_BASE_URL',
};

export const DEFAULTS = { temporalAddress: 'localhost:7233', natsUrl: 'nats://localhost:4222' } as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = parse(Env, env, 'environment');
  const stateDir = resolve(e.VAPORA_STATE_DIR);
  const profile = loadTemporalProfile(env);
  const llm: LLMSettings = {
    ...(e.ANTHROPIC_API_KEY && { claude: { apiKey: e.ANTHROPIC_API_KEY, baseUrl: e.ANTHROPIC_BASE_URL } }),
    ...(e.OPENAI_API_KEY && { openai: { apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL } }),
    ...(e.GEMINI_API_KEY && { gemini: { apiKey: e.GEMINI_API_KEY, baseUrl: e.GEMINI_BASE_URL } }),
    ...(e.OLLAMA_BASE_URL && { ollama: { baseUrl: e.OLLAMA_BASE_URL } }),
  };
  return {
    stateDir,
    cacheDir: resolve(e.VAPORA_CACHE_DIR),
    stackFile: e.VAPORA_STACK_FILE && resolve(e.VAPORA_STACK_FILE),
    agentRecord: e.VAPORA_AGENT_RECORD && resolve(e.VAPORA_AGENT_RECORD),
    temporal: {
      address: profileAddress(profile.address) ?? DEFAULTS.temporalAddress,
      namespace: profile.namespace ?? 'default',
      uiPort: e.TEMPORAL_UI_PORT,
      taskQueue: e.VAPORA_TASK_QUEUE,
      stackTraces: e.VAPORA_WORKFLOW_STACK_TRACES === 'true' || e.VAPORA_WORKFLOW_STACK_TRACES === '1',
      external: profile.address !== undefined,
      connection: profile.connection,
      codecKeys: e.VAPORA_CODEC_KEYS ?? readCodecKeys(resolve(e.VAPORA_STATE_DIR)),
    },
    api: {
      port: e.VAPORA_API_PORT,
      host: e.VAPORA_API_HOST,
      url: e.VAPORA_API_URL ?? `http://127.0.0.1:${e.VAPORA_API_PORT}`,
      // An agent inherits its parent's environment: its own token comes first.
      token: e.VAPORA_AGENT_TOKEN ?? e.VAPORA_TOKEN ?? readOperatorToken(resolve(e.VAPORA_STATE_DIR)),
    },
    workspacesDir: e.VAPORA_WORKSPACES_DIR && resolve(e.VAPORA_WORKSPACES_DIR),
    deployer: { kind: e.VAPORA_DEPLOYER, namespace: e.VAPORA_K8S_NAMESPACE },
    nats: {
      url: e.NATS_URL ?? DEFAULTS.natsUrl,
      external: e.NATS_URL !== undefined,
      credsFile: e.NATS_CREDS ? resolve(e.NATS_CREDS) : existing(resolve(stateDir, 'nats-auth', 'cli.creds')),
      caFile: e.NATS_CA && resolve(e.NATS_CA),
    },
    surreal: {
      url: e.SURREAL_URL ?? `surrealkv://${resolve(stateDir, 'registry')}`,
      namespace: e.SURREAL_NAMESPACE,
      database: e.SURREAL_DATABASE,
      username: e.SURREAL_USER,
      password: e.SURREAL_PASS,
    },
    llm,
    observability: {
      prometheusPort: e.VAPORA_PROMETHEUS_PORT,
      temporalMetricsPort: e.VAPORA_TEMPORAL_METRICS_PORT,
      natsMonitorUrl: e.VAPORA_NATS_MONITOR_URL,
      otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
      jaegerUi: e.VAPORA_JAEGER_UI,
    },
    embedding: e.VAPORA_EMBEDDING_MODEL ? embeddingSettings(e.VAPORA_EMBEDDING_MODEL, llm) : undefined,
  };
}

/** TEMPORAL_ADDRESS was checked with the rest of the environment; an address from the profile file is checked here. */
function profileAddress(address: string | undefined): string | undefined {
  if (address !== undefined && !HostPort.safeParse(address).success)
    throw new ValidationError('environment', [
      `address of the Temporal profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE): must be host:port, e.g. "localhost:7233" (got "${address}")`,
    ]);
  return address;
}

const existing = (file: string) => (existsSync(file) ? file : undefined);

/** The embedding model's provider must be configured: its key (or Ollama's URL) is what reaches it. */
function embeddingSettings(value: string, llm: LLMSettings): EmbeddingSettings {
  const provider = value.slice(0, value.indexOf(':')) as EmbeddingProvider;
  const settings = llm[provider];
  if (!settings)
    throw new ValidationError('environment', [
      `VAPORA_EMBEDDING_MODEL: ${provider} needs ${PROVIDER_VARIABLES[provider]} to be set (got "${value}")`,
    ]);
  return { provider, model: value.slice(provider.length + 1), settings };
}

/** What an agent process is told to find the stack (LLM keys it inherits from its parent's environment). */
export const agentEnv = (c: Config) => ({
  TEMPORAL_ADDRESS: c.temporal.address,
  TEMPORAL_NAMESPACE: c.temporal.namespace,
  NATS_URL: c.nats.url,
  VAPORA_API_PORT: String(c.api.port),
});
