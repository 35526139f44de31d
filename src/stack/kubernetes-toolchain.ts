import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { elapsed, findGo, isExecutable } from './executables';
import { goBuild } from './go-build';
import { PROJECT_ROOT } from '../host/project';

/** The Kubernetes release the local control plane is built from (deploy/toolchain/kubernetes/go.mod pins it). */
export const KUBERNETES_VERSION = '1.36.3';
const KWOK_VERSION = '0.8.0';
const TOOLCHAIN = join(PROJECT_ROOT, 'deploy', 'toolchain');

const KUBE_COMMANDS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'] as const;
const BINARIES = [...KUBE_COMMANDS, 'etcd', 'kwok'] as const;
export type KubernetesBinary = (typeof BINARIES)[number];

/** What the local control plane runs: one path per binary, and kwok's stage file (how simulated nodes and pods behave). */
export interface KubernetesToolchain {
  bin: Record<KubernetesBinary, string>;
  kwokStages: string;
}

const toolchainDir = (cacheDir: string) => join(cacheDir, `kubernetes-v${KUBERNETES_VERSION}`);

/** The toolchain cached under `cacheDir`, or the names of what is missing. */
export function findKubernetesToolchain(cacheDir: string): KubernetesToolchain | { missing: string[] } {
  const dir = toolchainDir(cacheDir);
  const bin = Object.fromEntries(BINARIES.map((b) => [b, join(dir, 'bin', b)])) as Record<KubernetesBinary, string>;
  const kwokStages = join(dir, 'kwok-stages.yaml');
  const missing = BINARIES.filter((b) => !isExecutable(bin[b])).map(String);
  if (!existsSync(kwokStages)) missing.push('kwok-stages.yaml');
  return missing.length ? { missing } : { bin, kwokStages };
}

/**
 * Builds what is missing with Go from the module proxy: the control plane
 * from k8s.io/kubernetes (through the wrapper module in deploy/toolchain,
 * which pins each staging module), etcd 3.6 the same way, and kwok.
 */
export async function ensureKubernetesToolchain(
  cacheDir: string,
  onProgress: (line: string) => void,
): Promise<KubernetesToolchain> {
  const found = findKubernetesToolchain(cacheDir);
  if (!('missing' in found)) return found;
  const go = findGo();
  if (!go)
    throw new GoMissing(
      `Go is needed to build the local Kubernetes control plane (missing: ${found.missing.join(', ')}); install Go 1.26 or newer`,
    );
  const dir = toolchainDir(cacheDir);
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const started = Date.now();
  const has = (b: KubernetesBinary) => !found.missing.includes(b);
  const goRun = (what: string, args: string[], cwd?: string) =>
    goBuild(go, { what, args, cwd, env: { GOBIN: bin, GOFLAGS: '-modcacherw' } }, onProgress);

  onProgress(
    `building the local Kubernetes v${KUBERNETES_VERSION} control plane with Go into ${bin} (first run only; about 6 minutes on 2 cores)`,
  );
  const kubeMissing = KUBE_COMMANDS.filter((c) => !has(c));
  if (kubeMissing.length) {
    const v = KUBERNETES_VERSION.split('.');
    const ldflags = [`gitVersion=v${KUBERNETES_VERSION}`, `gitMajor=${v[0]}`, `gitMinor=${v[1]}`]
      .map((f) => `-X k8s.io/component-base/version.${f}`)
      .join(' ');
    await goRun(
      kubeMissing.join(', '),
      ['build', '-o', `${bin}/`, '-ldflags', ldflags, ...kubeMissing.map((c) => `k8s.io/kubernetes/cmd/${c}`)],
      join(TOOLCHAIN, 'kubernetes'),
    );
  }
  if (!has('etcd'))
    await goRun('etcd', ['build', '-o', join(bin, 'etcd'), 'go.etcd.io/etcd/server/v3'], join(TOOLCHAIN, 'etcd'));
  if (!has('kwok')) await goRun(`kwok v${KWOK_VERSION}`, ['install', `sigs.k8s.io/kwok/cmd/kwok@v${KWOK_VERSION}`]);
  writeKwokStages(go, join(dir, 'kwok-stages.yaml'));
  onProgress(`  toolchain ready in ${elapsed(started)}`);

  const built = findKubernetesToolchain(cacheDir);
  if ('missing' in built)
    throw new Error(`the build finished but ${built.missing.join(', ')} is still missing under ${dir}`);
  return built;
}

/** Thrown when Go is absent: tests skip on it (printing why), CI refuses the skip. */
export class GoMissing extends Error {}

/**
 * kwok's stock "fast" stages (nodes become Ready, pods Running at once, deleted
 * pods go away) plus node lease heartbeats, so the node controller never
 * declares the simulated node lost. Taken from the kwok module itself.
 */
function writeKwokStages(go: string, target: string): void {
  const download = spawnSync(go, ['mod', 'download', '-json', `sigs.k8s.io/kwok@v${KWOK_VERSION}`], {
    encoding: 'utf8',
  });
  const moduleDir = (JSON.parse(download.stdout || '{}') as { Dir?: string }).Dir;
  if (download.status !== 0 || !moduleDir)
    throw new Error(`go mod download sigs.k8s.io/kwok@v${KWOK_VERSION} failed: ${download.stderr}`);
  const stages = ['node/fast', 'node/heartbeat-with-lease', 'pod/fast'].flatMap((set) => {
    const folder = join(moduleDir, 'kustomize', 'stage', set);
    return readdirSync(folder)
      .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
      .sort()
      .map((f) => readFileSync(join(folder, f), 'utf8').trim());
  });
  writeFileSync(`${target}.tmp`, `${stages.join('\n---\n')}\n`);
  renameSync(`${target}.tmp`, target);
}
