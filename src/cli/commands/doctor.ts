import { AppsV1Api } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { loadKubeConfig } from '../../deploy/create-deployer';
import { classifyKubernetesError } from '../../deploy/kubernetes-errors';
import { PROVIDER_VARIABLES, loadConfig, type Config } from '../../config';
import { CATALOG_DIR, loadManifests } from '../../marketplace/manifest-loader';
import { firstLine, which } from '../../stack/executables';
import { findNatsServer } from '../../stack/nats-server';
import { isListening, splitHostPort, urlHostPort } from '../../host/ports';
import { runStackCheck } from '../../client/stack-check';
import { findTemporalCli } from '../../stack/temporal-cli';
import { temporalAnswers } from '../../stack/temporal-dev-server';
import { printJson, table } from '../output';

interface Check {
  check: string;
  status: 'ok' | 'offline' | 'missing' | 'in use' | 'free' | 'down' | 'failed';
  detail: string;
  fix?: string;
}

const PROVISION =
  'run `npx vapora provision` (builds the Temporal CLI with Go, installs nats-server with apt-get as root)';

async function dependencies(config: Config): Promise<Check[]> {
  const temporal = findTemporalCli(config.cacheDir);
  const nats = findNatsServer();
  const go = which('go', ['/usr/local/go/bin']);
  const gitPath = which('git');
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  return [
    {
      check: 'node',
      status: nodeMajor >= 22 ? 'ok' : 'failed',
      detail: `${process.execPath} (${process.version})`,
      fix: nodeMajor >= 22 ? undefined : 'install Node.js 22 or newer, or run `eval "$(bash scripts/node-22.sh)"`',
    },
    temporal
      ? {
          check: 'temporal CLI',
          status: 'ok',
          detail: `${temporal.path} (${temporal.version}; from ${temporal.source})`,
        }
      : {
          check: 'temporal CLI',
          status: 'missing',
          detail: 'not on PATH, TEMPORAL_CLI_PATH or in the cache',
          fix: PROVISION,
        },
    gitPath
      ? { check: 'git', status: 'ok', detail: `${gitPath} (${firstLine(gitPath, ['--version'])}); feature workspaces` }
      : {
          check: 'git',
          status: 'missing',
          detail: 'not on PATH; feature workspaces are git repositories',
          fix: 'install git (apt-get install git)',
        },
    nats
      ? { check: 'nats-server', status: 'ok', detail: `${nats.path} (${nats.version}; from ${nats.source})` }
      : { check: 'nats-server', status: 'missing', detail: 'not on PATH or in /usr/sbin', fix: PROVISION },
    go
      ? {
          check: 'go',
          status: 'ok',
          detail: `${go} (${firstLine(go, ['version'])}); builds the Temporal CLI when it is missing`,
        }
      : {
          check: 'go',
          status: temporal ? 'ok' : 'missing',
          detail: 'not found; only needed to build the Temporal CLI',
          fix: temporal ? undefined : 'install Go 1.23+ or the Temporal CLI itself',
        },
  ];
}

/** Which models answer the agents: with no provider configured, the offline model stands in for every one. */
function llm(config: Config): Check {
  const configured = Object.keys(config.llm) as (keyof typeof PROVIDER_VARIABLES)[];
  if (configured.length) {
    const providers = configured.map((p) => `${p} (${PROVIDER_VARIABLES[p]})`).join(', ');
    return {
      check: 'llm',
      status: 'ok',
      detail: `${providers}; agents whose manifest names another provider fall back to these`,
    };
  }
  const wanted = new Map<string, Set<string>>();
  for (const m of loadManifests(CATALOG_DIR)) {
    if (m.llm_provider !== 'offline')
      wanted.set(m.llm_provider, (wanted.get(m.llm_provider) ?? new Set()).add(m.llm_model));
  }
  const fix = [...wanted].map(
    ([provider, models]) =>
      `${PROVIDER_VARIABLES[provider as keyof typeof PROVIDER_VARIABLES]} to use ${[...models].join(', ')}`,
  );
  return {
    check: 'llm',
    status: 'offline',
    detail: `offline model: a deterministic stand-in answers every agent, no real LLM is called (no ${Object.values(PROVIDER_VARIABLES).join(', ')} set)`,
    fix: `set ${fix.join('; ')} (the catalog's models)`,
  };
}

/** Where agents will run; for Kubernetes, whether the namespace answers to this account. */
async function deployer(config: Config): Promise<Check> {
  const { kind, namespace } = config.deployer;
  if (kind === 'process')
    return { check: 'deployer', status: 'ok', detail: 'agents run as local processes (VAPORA_DEPLOYER=process)' };
  try {
    const { kubeConfig, server } = loadKubeConfig();
    await kubeConfig.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace, limit: 1 });
    return { check: 'deployer', status: 'ok', detail: `agents run as pods in namespace ${namespace} of ${server}` };
  } catch (error) {
    const failure = classifyKubernetesError(error, `listing Deployments in namespace ${namespace}`);
    return {
      check: 'deployer',
      status: 'failed',
      detail: failure.message,
      fix: 'see the reason above; `npx vapora kube up` starts a local cluster',
    };
  }
}

async function endpoints(config: Config): Promise<Check[]> {
  const temporal = splitHostPort(config.temporal.address);
  const nats = urlHostPort(config.nats.url);
  const port = async (
    name: string,
    host: string,
    p: number,
    variable: string,
    answers?: () => Promise<boolean>,
  ): Promise<Check> => {
    if (!(await isListening(host, p)))
      return { check: name, status: 'free', detail: `${host}:${p} (${variable}); \`vapora up\` starts it here` };
    const ok = answers ? await answers().catch(() => false) : true;
    return {
      check: name,
      status: 'in use',
      detail: `${host}:${p} (${variable})${answers ? (ok ? ': a server answers' : ': something else answers') : ''}`,
    };
  };
  const checks = [
    await port('temporal port', temporal.host, temporal.port, 'TEMPORAL_ADDRESS', () =>
      temporalAnswers(config.temporal),
    ),
    await port('web UI port', temporal.host, config.temporal.uiPort, 'TEMPORAL_UI_PORT'),
    await port('nats port', nats.host, nats.port, 'NATS_URL'),
  ];
  if (checks[0]!.detail.endsWith('a server answers')) {
    const worker = await runStackCheck(config.temporal, 15_000)
      .then((): Check => ({
        check: 'control plane',
        status: 'ok',
        detail: `stackCheckWorkflow ran on task queue "${config.temporal.taskQueue}" (SurrealDB and NATS answered)`,
      }))
      .catch((error: Error): Check => ({
        check: 'control plane',
        status: 'down',
        detail: error.message.split('\n')[0]!,
        fix: 'start the stack with `npm start`',
      }));
    checks.push(worker);
  }
  return checks;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'report each dependency (path, version, source), which models answer the agents, each port, and whether a running stack answers',
    )
    .option('--json', 'print the checks as JSON')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig();
      const checks = [
        ...(await dependencies(config)),
        llm(config),
        await deployer(config),
        ...(await endpoints(config)),
      ];
      const broken = checks.filter((c) => c.status === 'missing' || c.status === 'failed');
      if (options.json) printJson({ ok: broken.length === 0, checks });
      else {
        console.log(table(checks as unknown as Record<string, unknown>[], ['check', 'status', 'detail']));
        for (const c of checks.filter((c) => c.fix)) console.log(`\n${c.check}: ${c.fix}`);
      }
      if (broken.length) process.exitCode = 1;
    });
}
