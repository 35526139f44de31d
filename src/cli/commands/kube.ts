import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { ensureKubernetesToolchain } from '../../stack/kubernetes-toolchain';
import { clusterDirProblem, startLocalKubernetes } from '../../stack/local-kubernetes';
import { printJson, progress } from '../output';
import { stopSignal } from '../stop-signal';

export function registerKube(program: Command): void {
  const kube = program
    .command('kube')
    .description('a local Kubernetes control plane with simulated nodes (kwok), to try the Kubernetes deployer');
  kube
    .command('up')
    .description(
      'build (first run) and start etcd, kube-apiserver, controller-manager, scheduler and kwok on loopback; Ctrl-C stops them',
    )
    .option(
      '--dir <dir>',
      'where the cluster keeps its state and logs: a new or empty directory, or one it made before (cleared at start)',
      '',
    )
    .option('--json', 'print the kubeconfig path and API server as one JSON line once ready')
    .action(async (options: { dir: string; json?: boolean }) => {
      const config = loadConfig();
      const dir = options.dir || join(config.stateDir, 'kube');
      // Before the first run's build: a directory it may not use is refused at once.
      const problem = clusterDirProblem(dir);
      if (problem) throw new Error(problem);
      const toolchain = await ensureKubernetesToolchain(config.cacheDir, progress);
      const cluster = await startLocalKubernetes(toolchain, dir, (line) => progress(`starting ${line}`));
      if (options.json)
        printJson({
          status: 'ready',
          kubeconfig: cluster.kubeconfig,
          server: cluster.server,
          node: cluster.node,
          kubectl: toolchain.bin.kubectl,
        });
      else {
        progress(
          [
            '',
            `Kubernetes ${cluster.server} is up (one simulated node, ${cluster.node}: pods run and become Ready, but no container runs).`,
            `  export KUBECONFIG=${cluster.kubeconfig}`,
            `  ${toolchain.bin.kubectl} get pods -A`,
            `  kubectl apply -f deploy/kubernetes/rbac.yaml, then VAPORA_DEPLOYER=kubernetes npm start`,
            `Logs in ${join(dir, 'logs')}. Press Ctrl-C to stop.`,
          ].join('\n'),
        );
      }
      await stopSignal();
      progress('stopping…');
      await cluster.stop();
      progress('stopped.');
    });
}
