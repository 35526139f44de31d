import { isAbsolute, relative } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { NatsKeys } from '../bus/nats-credentials';
import { agentEnv, type Config } from '../config';
import type { Logger } from '../logger';
import type { Deployer } from './deployer';
import type { ApiAuth } from '../control-plane/api-auth';
import { KubernetesDeployer } from './kubernetes-deployer';
import { ProcessDeployer } from './process-deployer';
import { keepConnections } from './kept-connections';
import { workspacesDir } from '../control-plane/feature-workspace';

/** The deployer VAPORA_DEPLOYER names: local processes, or pods in the cluster KUBECONFIG (or the pod's service account) points at. */
export function createDeployer(config: Config, log: Logger, auth: ApiAuth): Deployer & { close?(): Promise<void> } {
  if (config.deployer.kind === 'process') {
    const nats = natsIssuer(config);
    return new ProcessDeployer({
      stateDir: config.stateDir,
      env: agentEnv(config),
      tokenFor: (agentId) => auth.agentToken(agentId),
      workspacesDir: workspacesDir(config.stateDir),
      natsCredsFor:
        nats &&
        ((agentId, manifest) => nats.issue({ kind: 'agent', agentId, decides: manifest.role === 'decision-maker' })),
    });
  }
  const { kubeConfig, server } = loadKubeConfig();
  log.info('agents run as pods', { server, namespace: config.deployer.namespace });
  const { VAPORA_API_PORT: _port, ...env } = agentEnv(config);
  return new KubernetesDeployer({
    kubeConfig,
    namespace: config.deployer.namespace,
    env: { ...env, VAPORA_API_URL: config.api.url },
    tokenFor: (manifestId) => auth.poolToken(manifestId),
    codecKeys: config.temporal.codecKeys,
  });
}

/** The stack's NATS keys, when this control plane's own credentials come from them (a NATS `vapora up` started). */
function natsIssuer(config: Config): NatsKeys | undefined {
  const { credsFile } = config.nats;
  const within = credsFile && relative(NatsKeys.dirOf(config.stateDir), credsFile);
  return within && !within.startsWith('..') && !isAbsolute(within) ? NatsKeys.existing(config.stateDir) : undefined;
}

/** The cluster from KUBECONFIG (or ~/.kube/config, or the pod's service account); throws when none is configured. */
export function loadKubeConfig(): { kubeConfig: KubeConfig; server: string } {
  const kubeConfig = keepConnections(new KubeConfig());
  kubeConfig.loadFromDefault();
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster)
    throw new Error(
      'VAPORA_DEPLOYER=kubernetes but no cluster is configured: set KUBECONFIG (`npx vapora kube up` prints a local one), or run the control plane in a pod',
    );
  return { kubeConfig, server: cluster.server };
}
