import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CoreV1Api,
  KubernetesObjectApi,
  loadAllYaml,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config';
import { findKubernetesToolchain } from '../../src/stack/kubernetes-toolchain';
import { clientFor, startLocalKubernetes } from '../../src/stack/local-kubernetes';
import { PROJECT_ROOT } from '../../src/host/project';
import { tempDir } from './servers';

/**
 * Why the Kubernetes tests cannot run here (test/run.ts builds the control
 * plane when Go is present), or undefined. With VAPORA_REQUIRE_KUBERNETES=1
 * (CI) a reason is a failure, not a skip.
 */
export function kubernetesSkipReason(): string | undefined {
  const reason = process.env.VAPORA_TEST_KUBERNETES_SKIP;
  if (reason && process.env.VAPORA_REQUIRE_KUBERNETES === '1')
    throw new Error(`Kubernetes tests are required here but cannot run: ${reason}`);
  return reason;
}

/** The local Kubernetes binaries in this machine's cache, or what is missing. */
export const cachedToolchain = () =>
  findKubernetesToolchain(loadConfig({ ...process.env, VAPORA_STATE_DIR: '.' }).cacheDir);

/** A local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) for one test file. */
export async function localCluster() {
  const toolchain = cachedToolchain();
  if ('missing' in toolchain)
    throw new Error(
      `the Kubernetes toolchain is missing ${toolchain.missing.join(', ')}; run \`npx vapora provision --kubernetes\``,
    );
  const dir = tempDir('kube');
  const cluster = await startLocalKubernetes(toolchain, dir);
  const admin = clientFor(cluster.kubeconfig);
  return {
    ...cluster,
    dir,
    admin,
    core: admin.makeApiClient(CoreV1Api),
    /** Creates every object of a YAML file under deploy/ (as `kubectl create -f` would). */
    async apply(file: string): Promise<KubernetesObject[]> {
      const objects = loadAllYaml(readFileSync(join(PROJECT_ROOT, file), 'utf8')) as KubernetesObject[];
      const api = KubernetesObjectApi.makeApiClient(admin);
      const created: KubernetesObject[] = [];
      for (const object of objects) created.push(await api.create(object));
      return created;
    },
    /** A kubeconfig that authenticates as a ServiceAccount (a token from the TokenRequest API), for RBAC to judge. */
    async kubeconfigFor(namespace: string, serviceAccount: string): Promise<string> {
      const request = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
        name: serviceAccount,
        namespace,
        body: { spec: { audiences: [], expirationSeconds: 3600 } },
      });
      const kc: KubeConfig = clientFor(cluster.kubeconfig);
      const path = join(dir, `${serviceAccount}.kubeconfig`);
      writeFileSync(
        path,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [
            {
              name: 'local',
              cluster: { server: cluster.server, 'certificate-authority-data': kc.getCurrentCluster()?.caData },
            },
          ],
          users: [{ name: serviceAccount, user: { token: request.status?.token } }],
          contexts: [{ name: 'local', context: { cluster: 'local', user: serviceAccount, namespace } }],
          'current-context': 'local',
        }),
        { mode: 0o600 },
      );
      return path;
    },
  };
}
