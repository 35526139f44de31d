import { z } from 'zod';

/**
 * An A2A agent card (A2A 1.0, the shape of `AgentCard` in @a2a-js/sdk),
 * served at `/.well-known/agent-card.json` on each agent's health port so
 * other agent systems can discover Vapora's agents. Checked where it is made
 * and where it is read.
 */
export const A2A_PROTOCOL_VERSION = '1.0';
export const AGENT_CARD_PATH = '/.well-known/agent-card.json';

const MediaType = z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, 'must be a media type such as "text/plain"');

export const AgentCard = z.object({
  name: z.string().min(1),
  description: z.string().min(1),
  supportedInterfaces: z
    .array(
      z.object({
        url: z.url(),
        protocolBinding: z.string().min(1),
        tenant: z.string(),
        protocolVersion: z.string().min(1),
      }),
    )
    .min(1),
  provider: z.object({ url: z.url(), organization: z.string().min(1) }).optional(),
  version: z.string().min(1),
  documentationUrl: z.url().optional(),
  capabilities: z.object({
    streaming: z.boolean().optional(),
    pushNotifications: z.boolean().optional(),
    extensions: z.array(z.object({ uri: z.string().min(1), description: z.string(), required: z.boolean() })),
    extendedAgentCard: z.boolean().optional(),
  }),
  securitySchemes: z.record(z.string(), z.unknown()),
  securityRequirements: z.array(z.unknown()),
  defaultInputModes: z.array(MediaType).min(1),
  defaultOutputModes: z.array(MediaType).min(1),
  skills: z
    .array(
      z.object({
        id: z.string().min(1),
        name: z.string().min(1),
        description: z.string().min(1),
        tags: z.array(z.string().min(1)).min(1),
        examples: z.array(z.string()),
        inputModes: z.array(MediaType),
        outputModes: z.array(MediaType),
        securityRequirements: z.array(z.unknown()),
      }),
    )
    .min(1),
  signatures: z.array(z.unknown()),
});
export type AgentCard = z.infer<typeof AgentCard>;
