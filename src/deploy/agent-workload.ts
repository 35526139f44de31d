import type { V1Deployment, V1ResourceRequirements } from '@kubernetes/client-node';
import type { AgentManifest } from '../domain';
import { agentSpecOf } from '../contracts/agent-spec';

/** Labels and annotations Vapora puts on its Deployments and pods. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  manifest: 'vapora.dev/manifest',
  role: 'vapora.dev/role',
  version: 'app.kubernetes.io/version',
  /** On a pod: the agent instance that claimed it (its lifecycle workflow is `agent-<id>`). */
  agentId: 'vapora.dev/agent-id',
} as const;
/** On a Deployment: the agent ids it runs a pod for, comma-separated; replicas is their number. */
export const MEMBERS = 'vapora.dev/agents';
/** The ReplicaSet removes pods with the lowest cost first; a stopping agent's pod is marked so it is the one to go. */
export const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

export const AGENT_PORT = 8080;
/** Where the pod sees its own labels (downward API), so the agent worker learns which agent it was claimed as. */
export const POD_LABELS_FILE = '/etc/vapora/pod/labels';
/** LLM keys come from this Secret, never from the Deployment itself. */
export const LLM_KEYS_SECRET = 'vapora-llm-keys';
/** Each pool's API token (key: the manifest id), and the payload codec's keys (`codec-keys`), written by the control plane, read by its pods. */
export const AGENT_TOKENS_SECRET = 'vapora-agent-tokens';
export const CODEC_KEYS = 'codec-keys';

/** One Deployment per pool and version, so a rolling upgrade runs the two side by side, instance by instance. */
export const deploymentName = (manifestId: string, version: string) =>
  `vapora-${manifestId}-v${version.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
export const poolSelector = (manifestId: string) => `${LABELS.managedBy}=vapora,${LABELS.manifest}=${manifestId}`;

/** Where agents find the stack from inside the cluster (a type, not an interface, so its entries are strings). */
export type AgentEnv = {
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE: string;
  NATS_URL: string;
  VAPORA_API_URL: string;
};

/**
 * One Deployment per agent pool and version: the manifest's image and resources, probes
 * on its health endpoint with its interval, timeout and threshold, and the
 * agent spec in the environment (the agent id comes later, from the pod's
 * label, when an agent lifecycle claims the pod).
 */
export function agentDeployment(
  manifest: AgentManifest,
  namespace: string,
  env: AgentEnv,
  members: string[],
): V1Deployment {
  const labels = {
    [LABELS.managedBy]: 'vapora',
    [LABELS.manifest]: manifest.id,
    [LABELS.role]: manifest.role,
    [LABELS.version]: manifest.version,
  };
  const { agent_id: _unclaimed, ...spec } = agentSpecOf('unclaimed', manifest, AGENT_PORT);
  const { interval_secs, timeout_secs, consecutive_failures_threshold } = manifest.health_check;
  // Liveness asks only whether the process answers (`?live`): an unclaimed pod is alive but not ready.
  const probe = (failureThreshold: number, query = '') => ({
    httpGet: { path: `${manifest.health_check_endpoint}${query}`, port: 'health' },
    periodSeconds: interval_secs,
    timeoutSeconds: timeout_secs,
    failureThreshold,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: deploymentName(manifest.id, manifest.version),
      namespace,
      labels,
      annotations: { [MEMBERS]: members.join(',') },
    },
    spec: {
      replicas: members.length,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: 'agent',
              image: manifest.docker_image,
              ports: [{ name: 'health', containerPort: AGENT_PORT }],
              env: [
                ...Object.entries(env).map(([name, value]) => ({ name, value })),
                { name: 'VAPORA_AGENT_SPEC', value: JSON.stringify(spec) },
                { name: 'VAPORA_AGENT_ID_FILE', value: POD_LABELS_FILE },
                { name: 'VAPORA_AGENT_HOST', value: '0.0.0.0' },
                // Its clones of feature workspaces: scratch space of the pod, cloned again if the pod is replaced.
                { name: 'VAPORA_STATE_DIR', value: '/var/lib/vapora' },
                // A pod learns its agent id only when claimed, so it writes with its pool's token.
                {
                  name: 'VAPORA_AGENT_TOKEN',
                  valueFrom: { secretKeyRef: { name: AGENT_TOKENS_SECRET, key: manifest.id } },
                },
                // The plane's payload keys, when it encrypts (see src/temporal/payload-codec.ts).
                {
                  name: 'VAPORA_CODEC_KEYS',
                  valueFrom: { secretKeyRef: { name: AGENT_TOKENS_SECRET, key: CODEC_KEYS, optional: true } },
                },
              ],
              envFrom: [{ secretRef: { name: LLM_KEYS_SECRET, optional: true } }],
              resources: resourcesOf(manifest),
              readinessProbe: probe(1),
              livenessProbe: probe(consecutive_failures_threshold, '?live'),
              volumeMounts: [
                { name: 'pod-info', mountPath: '/etc/vapora/pod', readOnly: true },
                { name: 'work', mountPath: '/var/lib/vapora' },
              ],
            },
          ],
          volumes: [
            { name: 'work', emptyDir: {} },
            {
              name: 'pod-info',
              downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
            },
          ],
        },
      },
    },
  };
}

function resourcesOf({ resources: r }: AgentManifest): V1ResourceRequirements {
  const gpu: Record<string, string> = r.gpu ? { 'nvidia.com/gpu': String(r.gpu) } : {};
  return {
    requests: { cpu: r.cpu, memory: r.memory, ...gpu },
    limits: { memory: r.memory_limit ?? r.memory, ...(r.cpu_limit && { cpu: r.cpu_limit }), ...gpu },
  };
}
