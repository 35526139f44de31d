import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { ensureChromium } from '../../stack/chromium';
import { ensureKubernetesToolchain } from '../../stack/kubernetes-toolchain';
import { ensureNatsServer } from '../../stack/nats-server';
import { ensurePrometheus } from '../../stack/prometheus';
import { ensureJaeger } from '../../stack/jaeger';
import { ensureNginx } from '../../stack/nginx';
import { ensureTemporalCli } from '../../stack/temporal-cli';
import { printJson, progress } from '../output';

interface ProvisionOptions {
  kubernetes?: boolean;
  observability?: boolean;
  browser?: boolean;
  tls?: boolean;
  json?: boolean;
}

export function registerProvision(program: Command): void {
  program
    .command('provision')
    .description(
      'install what this machine lacks: the Temporal CLI (built with Go into the cache) and nats-server (and Prometheus, Kubernetes, Chromium, nginx)',
    )
    .option(
      '--kubernetes',
      'also build the local Kubernetes control plane (kube-apiserver, etcd, kwok, …) with Go into the cache',
    )
    .option(
      '--observability',
      'also install Prometheus (with promtool, from Debian as nats-server) and build Jaeger with Go into the cache',
    )
    .option('--browser', "also install Chromium from Debian, for the console's browser tests")
    .option(
      '--tls',
      'also install nginx from Debian: the TLS terminator the Temporal TLS tests put in front of the dev server',
    )
    .option('--json', 'print what was found or installed as JSON')
    .action(async (options: ProvisionOptions) => {
      const config = loadConfig();
      const temporal = await ensureTemporalCli(config.cacheDir, progress);
      const nats = await ensureNatsServer(progress);
      const prometheus = options.observability ? await ensurePrometheus(progress) : undefined;
      const jaeger = options.observability ? await ensureJaeger(config.cacheDir, progress) : undefined;
      const kubernetes = options.kubernetes ? await ensureKubernetesToolchain(config.cacheDir, progress) : undefined;
      const chromium = options.browser ? await ensureChromium(progress) : undefined;
      const nginx = options.tls ? await ensureNginx(progress) : undefined;
      if (options.json)
        return printJson({
          temporal,
          nats,
          ...(prometheus && { prometheus, jaeger }),
          ...(kubernetes && { kubernetes }),
          ...(chromium && { chromium }),
          ...(nginx && { nginx }),
        });
      progress(
        `temporal     ${temporal.path} (${temporal.version}, ${temporal.source})\nnats-server  ${nats.path} (${nats.version}, ${nats.source})`,
      );
      if (prometheus)
        progress(`prometheus   ${prometheus.path} (${prometheus.version.split(' (')[0]}, ${prometheus.source})`);
      if (chromium) progress(`chromium     ${chromium.path} (${chromium.version}, ${chromium.source})`);
      if (nginx) progress(`nginx        ${nginx.path} (${nginx.version}, ${nginx.source})`);
      if (kubernetes) progress(`kubernetes   ${Object.values(kubernetes.bin).join('\n             ')}`);
    });
}
