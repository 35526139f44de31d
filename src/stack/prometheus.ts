import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { answersOk } from '../host/ports';
import { PROJECT_ROOT } from '../host/project';
import { ensureSystemServer, findSystemServer, type SystemServer } from './debian-package';
import { startUntilReady, type SupervisedProcess } from './supervised-process';

const PROMETHEUS: SystemServer = {
  command: 'prometheus',
  debianPackage: 'prometheus',
  howToInstall: `Install Prometheus (2.x, with promtool):
  apt-get install prometheus       (Debian/Ubuntu)
  brew install prometheus          (macOS)
  or a release from https://prometheus.io/download/ on PATH`,
};

/** The alert rules Vapora ships, checked by `promtool check rules` in the tests. */
export const ALERT_RULES = join(PROJECT_ROOT, 'deploy', 'observability', 'alerts.yml');

export const findPrometheus = () => findSystemServer(PROMETHEUS);
export const ensurePrometheus = (onProgress: (line: string) => void) => ensureSystemServer(PROMETHEUS, onProgress);

/** What Prometheus scrapes: host:port of each, and the file the control plane keeps the agents in. */
export interface ScrapeSources {
  /** The control plane's API (its `/metrics`). */
  controlPlane: string;
  /** The control plane's Temporal SDK metrics (Runtime telemetry). */
  temporalSdk?: string;
  /** The Temporal dev server's own metrics. */
  temporalServer?: string;
  /** nats-server's, as the control plane exports them at `/metrics/nats`. */
  nats?: string;
  /** File-based service discovery of the agents (see src/control-plane/scrape-targets.ts). */
  agentsFile: string;
  /** Seconds between scrapes and rule evaluations. */
  intervalSecs?: number;
}

/** A Prometheus configuration scraping the stack, with Vapora's alert rules. */
export function prometheusConfig(sources: ScrapeSources): string {
  const interval = `${sources.intervalSecs ?? 5}s`;
  const job = (job_name: string, target: string | undefined, metrics_path = '/metrics') =>
    target ? [{ job_name, metrics_path, static_configs: [{ targets: [target] }] }] : [];
  return stringify({
    global: { scrape_interval: interval, evaluation_interval: interval },
    rule_files: [ALERT_RULES],
    scrape_configs: [
      ...job('vapora-control-plane', sources.controlPlane),
      ...job('temporal-sdk', sources.temporalSdk),
      ...job('temporal-server', sources.temporalServer),
      ...job('nats-server', sources.nats, '/metrics/nats'),
      {
        job_name: 'vapora-agents',
        file_sd_configs: [{ files: [sources.agentsFile], refresh_interval: interval }],
      },
    ],
  });
}

export interface PrometheusOptions {
  bin: string;
  host: string;
  port: number;
  /** Its configuration is written here, and its time series kept under it. */
  dir: string;
  sources: ScrapeSources;
  logFile: string;
}

/** Prometheus on `host:port` scraping the stack, ready when it says so (`/-/ready`). */
export async function startPrometheus(options: PrometheusOptions): Promise<SupervisedProcess> {
  const configFile = join(options.dir, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig(options.sources));
  const url = `http://${options.host}:${options.port}`;
  return startUntilReady(
    {
      name: 'prometheus',
      command: options.bin,
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(options.dir, 'data')}`,
        `--web.listen-address=${options.host}:${options.port}`,
        '--log.level=warn',
      ],
      logFile: options.logFile,
    },
    `Prometheus at ${url}`,
    () => answersOk(`${url}/-/ready`),
    30_000,
  );
}
