import { A2A_PROTOCOL_VERSION, AgentCard } from '../contracts/agent-card';
import type { AgentSpec } from '../contracts/agent-spec';
import { agentTaskQueue } from '../contracts/task-queues';
import { parse } from '../domain';

const TEXT = ['text/plain'];
const RESULTS = ['text/plain', 'application/json'];

/**
 * This agent's A2A card: who it is (its manifest's name, role and version),
 * what it can do (a skill per capability, tagged with its role, complexity
 * and the manifest's skills), and where work reaches it: its Temporal task
 * queue, which is how Vapora's workflows call it.
 */
export function agentCard(spec: AgentSpec, temporal: { address: string; namespace: string }): AgentCard {
  return parse(
    AgentCard,
    {
      name: `${spec.name ?? spec.manifest_id} (${spec.agent_id})`,
      description: spec.description || `Vapora ${spec.role} agent`,
      supportedInterfaces: [
        {
          url: `temporal://${temporal.address}/${temporal.namespace}/${agentTaskQueue(spec.agent_id)}`,
          protocolBinding: 'TEMPORAL',
          tenant: temporal.namespace,
          protocolVersion: A2A_PROTOCOL_VERSION,
        },
      ],
      version: spec.version,
      capabilities: { streaming: false, pushNotifications: false, extensions: [] },
      securitySchemes: {},
      securityRequirements: [],
      defaultInputModes: TEXT,
      defaultOutputModes: RESULTS,
      skills: spec.capabilities.map((c) => ({
        id: c.id,
        name: c.name,
        description: c.description || c.name,
        tags: [spec.role, c.complexity.toLowerCase(), ...(spec.skills ?? [])],
        examples: [],
        inputModes: TEXT,
        outputModes: RESULTS,
        securityRequirements: [],
      })),
      signatures: [],
    },
    'agent card',
  );
}
