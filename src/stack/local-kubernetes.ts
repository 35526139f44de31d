import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { KubernetesToolchain } from './kubernetes-toolchain';
import { freePort, isListening } from '../host/ports';
import { waitFor } from '../host/retry';
import { startUntilReady, type SupervisedProcess } from './supervised-process';
import { keepConnections } from '../deploy/kept-connections';

export interface LocalKubernetes {
  /** Admin kubeconfig (token auth, the API server's own CA). */
  kubeconfig: string;
  server: string;
  /** The simulated node every pod lands on. */
  node: string;
  stop(): Promise<void>;
}

/** The controllers a Deployment needs to become Running pods (node-lifecycle lifts the new node's not-ready taint; resource quotas need theirs), and nothing else: 2 cores are shared. */
const CONTROLLERS = [
  'deployment-controller',
  'replicaset-controller',
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'node-lifecycle-controller',
  'resourcequota-controller',
];
const NODE = 'kwok-node-0';

/** Marks a directory as the local cluster's own, so a later start may clear what it wrote there. */
const MARKER = '.vapora-kube';
/** Everything the cluster writes in its directory: all a new start clears, and nothing else. */
const OWN_ENTRIES = ['pki', 'certs', 'logs', 'etcd', 'admin.kubeconfig'];

/**
 * Why `dir` cannot hold the local cluster, or undefined: only a new or empty
 * directory, or one an earlier start marked as its own, since a start clears it.
 */
export function clusterDirProblem(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
  const entries = readdirSync(dir);
  if (entries.length === 0 || entries.includes(MARKER)) return undefined;
  return `refusing to keep the local cluster in ${dir}: it is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}) and was not made by \`vapora kube up\` (no ${MARKER} marker); name a new or empty directory`;
}

/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver,
 * kube-controller-manager and kube-scheduler, with kwok simulating one large
 * node, so Deployments become scheduled, Running, Ready pods without a kubelet.
 * Its state lives in `dir`: what an earlier start wrote there is cleared, and
 * a directory it did not make is refused unless empty (see clusterDirProblem).
 */
export async function startLocalKubernetes(
  toolchain: KubernetesToolchain,
  dir: string,
  onProgress: (line: string) => void = () => {},
): Promise<LocalKubernetes> {
  const problem = clusterDirProblem(dir);
  if (problem) throw new Error(problem);
  for (const entry of OWN_ENTRIES) rmSync(join(dir, entry), { recursive: true, force: true });
  for (const d of ['pki', 'certs', 'logs']) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
  writeFileSync(
    join(dir, MARKER),
    'The local Kubernetes control plane of `vapora kube up` keeps its state here; a new start clears it.\n',
  );
  const { bin } = toolchain;
  const file = (name: string) => join(dir, name);
  const log = (name: string) => join(dir, 'logs', `${name}.log`);
  const started: SupervisedProcess[] = [];
  const stop = async () => {
    // The API server goes before etcd, or its graceful shutdown waits on etcd.
    for (const p of started.reverse()) await p.stop(5_000);
  };

  try {
    const [etcdPort, peerPort, apiPort, kcmPort, schedulerPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    writeFileSync(file('pki/sa.pub'), publicKey);
    writeFileSync(file('pki/sa.key'), privateKey, { mode: 0o600 });
    const token = randomBytes(24).toString('hex');
    writeFileSync(file('pki/tokens.csv'), `${token},admin,admin,system:masters\n`, { mode: 0o600 });

    onProgress(`etcd on 127.0.0.1:${etcdPort}`);
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    started.push(
      await startUntilReady(
        {
          name: 'etcd',
          command: bin.etcd,
          args: [
            '--name',
            'vapora',
            '--data-dir',
            file('etcd'),
            '--listen-client-urls',
            etcdUrl,
            '--advertise-client-urls',
            etcdUrl,
            '--listen-peer-urls',
            peerUrl,
            '--initial-advertise-peer-urls',
            peerUrl,
            '--initial-cluster',
            `vapora=${peerUrl}`,
          ],
          logFile: log('etcd'),
        },
        'etcd',
        async () => ((await (await fetch(`${etcdUrl}/health`)).json()) as { health?: string }).health === 'true',
        30_000,
      ),
    );

    onProgress(`kube-apiserver on https://127.0.0.1:${apiPort}`);
    const server = `https://127.0.0.1:${apiPort}`;
    started.push(
      await startUntilReady(
        {
          name: 'kube-apiserver',
          command: bin['kube-apiserver'],
          args: [
            `--etcd-servers=${etcdUrl}`,
            '--bind-address=127.0.0.1',
            '--advertise-address=127.0.0.1',
            `--secure-port=${apiPort}`,
            `--cert-dir=${file('certs')}`,
            '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
            `--service-account-key-file=${file('pki/sa.pub')}`,
            `--service-account-signing-key-file=${file('pki/sa.key')}`,
            `--token-auth-file=${file('pki/tokens.csv')}`,
            '--authorization-mode=Node,RBAC',
            '--service-cluster-ip-range=10.96.0.0/16',
            '--enable-priority-and-fairness=false',
          ],
          logFile: log('kube-apiserver'),
        },
        'kube-apiserver to be ready',
        async () => (await httpsGet(`${server}/readyz`, token)) === 'ok',
        120_000,
      ),
    );

    const kubeconfig = file('admin.kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(server, readFileSync(file('certs/apiserver.crt')), token), {
      mode: 0o600,
    });
    // The default 20 requests/s would make a 1000-pod scale-up wait on the clients, not on the API server.
    const common = [
      `--kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      '--leader-elect=false',
      '--kube-api-qps=500',
      '--kube-api-burst=1000',
    ];
    const component = async (name: 'kube-controller-manager' | 'kube-scheduler', port: number, args: string[]) => {
      onProgress(name);
      started.push(
        await startUntilReady(
          { name, command: bin[name], args: [...common, `--secure-port=${port}`, ...args], logFile: log(name) },
          name,
          () => isListening('127.0.0.1', port),
          60_000,
        ),
      );
    };
    await component('kube-controller-manager', kcmPort, [
      `--controllers=${CONTROLLERS.join(',')}`,
      `--service-account-private-key-file=${file('pki/sa.key')}`,
      '--use-service-account-credentials=false',
    ]);
    await component('kube-scheduler', schedulerPort, []);
    onProgress('kwok (simulated node and pods)');
    started.push(
      await startUntilReady(
        {
          name: 'kwok',
          command: bin.kwok,
          args: [
            `--kubeconfig=${kubeconfig}`,
            '--manage-all-nodes=true',
            `--config=${toolchain.kwokStages}`,
            '--cidr=10.244.0.0/16',
            '--node-lease-duration-seconds=40',
          ],
          logFile: log('kwok'),
        },
        // kwok is ready when the node it manages is (awaited below).
        'kwok',
        async () => true,
        5_000,
      ),
    );

    const core = clientFor(kubeconfig).makeApiClient(CoreV1Api);
    await core.createNode({
      body: {
        metadata: {
          name: NODE,
          labels: { type: 'kwok', 'kubernetes.io/hostname': NODE },
          annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        },
        spec: { taints: [] },
        status: { capacity: NODE_SIZE, allocatable: NODE_SIZE },
      },
    });
    await waitFor(
      `node ${NODE} to be Ready`,
      async () =>
        (await core.readNode({ name: NODE })).status?.conditions?.some(
          (c) => c.type === 'Ready' && c.status === 'True',
        ) ?? false,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // Pods are refused until the namespace's default ServiceAccount exists.
    await waitFor(
      'the default ServiceAccount',
      async () => !!(await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' })),
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    return { kubeconfig, server, node: NODE, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Room for thousands of simulated pods. */
const NODE_SIZE = { cpu: '4000', memory: '16Ti', pods: '5000' };

export function clientFor(kubeconfig: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return keepConnections(kc);
}

function kubeconfigYaml(server: string, ca: Buffer, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'vapora-local', cluster: { server, 'certificate-authority-data': ca.toString('base64') } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'vapora-local', context: { cluster: 'vapora-local', user: 'admin' } }],
    'current-context': 'vapora-local',
  });
}

/** A GET against the API server before a kubeconfig exists (its certificate is self-signed and only now generated). */
function httpsGet(url: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 2_000 },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body.trim()));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}
