import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { answersOk } from '../host/ports';
import { PROJECT_ROOT } from '../host/project';
import { elapsed, findGo, isExecutable, type Resolved } from './executables';
import { goBuild } from './go-build';
import { startUntilReady, type SupervisedProcess } from './supervised-process';
import { GoMissing } from './kubernetes-toolchain';

export const JAEGER_VERSION = '1.76.0';
/** The Go module that pins Jaeger and its dependencies (`go get -tool`), as deploy/toolchain's others do. */
const TOOL_MODULE = join(PROJECT_ROOT, 'deploy', 'toolchain', 'jaeger');

const binary = (cacheDir: string) => join(cacheDir, `jaeger-v${JAEGER_VERSION}`, 'jaeger');

export function findJaeger(cacheDir: string): Resolved | undefined {
  const path = binary(cacheDir);
  return isExecutable(path) ? { path, version: `v${JAEGER_VERSION}`, source: 'cache' } : undefined;
}

/** Jaeger all-in-one (v2: an OpenTelemetry Collector with Jaeger's storage and UI), built with Go once into the cache. */
export async function ensureJaeger(cacheDir: string, onProgress: (line: string) => void): Promise<Resolved> {
  const found = findJaeger(cacheDir);
  if (found) return found;
  const go = findGo();
  if (!go) throw new GoMissing(`Go is needed to build Jaeger v${JAEGER_VERSION}; install Go 1.26 or newer`);
  const path = binary(cacheDir);
  mkdirSync(join(path, '..'), { recursive: true });
  const started = Date.now();
  onProgress(`building Jaeger v${JAEGER_VERSION} with Go into ${path} (first run only; about 4 minutes on 2 cores)`);
  await goBuild(
    go,
    {
      what: `Jaeger v${JAEGER_VERSION}`,
      args: ['build', '-o', path, 'github.com/jaegertracing/jaeger/cmd/jaeger'],
      cwd: TOOL_MODULE,
      env: { GOFLAGS: '-modcacherw' },
    },
    onProgress,
  );
  const built = findJaeger(cacheDir);
  if (!built) throw new Error(`the build finished but ${path} is missing`);
  onProgress(`  Jaeger ready in ${elapsed(started)}`);
  return built;
}

export interface JaegerPorts {
  /** OTLP over HTTP: where every process sends its spans. */
  otlp: number;
  /** The UI and its HTTP API (`/api/traces`). */
  ui: number;
  /** The query service's gRPC port and the health check: unused by Vapora, on ports of their own. */
  grpc: number;
  health: number;
}

/** A configuration of Jaeger v2 on loopback: OTLP/HTTP in, traces kept in memory, the UI. */
export function jaegerConfig(host: string, ports: JaegerPorts): string {
  const at = (port: number) => `${host}:${port}`;
  return stringify({
    service: {
      extensions: ['jaeger_storage', 'jaeger_query', 'healthcheckv2'],
      pipelines: {
        traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['jaeger_storage_exporter'] },
      },
      // Its own metrics would take port 8888: off, like its own traces.
      telemetry: { metrics: { level: 'none' }, logs: { level: 'warn' } },
    },
    extensions: {
      jaeger_storage: { backends: { memstore: { memory: { max_traces: 100_000 } } } },
      jaeger_query: {
        storage: { traces: 'memstore' },
        enable_tracing: false,
        http: { endpoint: at(ports.ui) },
        grpc: { endpoint: at(ports.grpc) },
      },
      healthcheckv2: { use_v2: true, http: { endpoint: at(ports.health) } },
    },
    receivers: { otlp: { protocols: { http: { endpoint: at(ports.otlp) } } } },
    processors: { batch: { timeout: '200ms' } },
    exporters: { jaeger_storage_exporter: { trace_storage: 'memstore' } },
  });
}

export interface JaegerOptions {
  bin: string;
  host: string;
  ports: JaegerPorts;
  /** Its configuration is written here. */
  dir: string;
  logFile: string;
}

/** Jaeger on `host`, ready when its UI's API answers. */
export async function startJaeger(options: JaegerOptions): Promise<SupervisedProcess> {
  const configFile = join(options.dir, 'jaeger.yml');
  writeFileSync(configFile, jaegerConfig(options.host, options.ports));
  const ui = `http://${options.host}:${options.ports.ui}`;
  return startUntilReady(
    { name: 'jaeger', command: options.bin, args: ['--config', configFile], logFile: options.logFile },
    `Jaeger at ${ui}`,
    () => answersOk(`${ui}/api/services`),
    30_000,
  );
}
