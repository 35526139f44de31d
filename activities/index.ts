import type { AgentMessage, Knowledge } from '../src/domain';
import type { EventBus, PublishResult } from '../src/bus/event-bus';
import type { FleetService } from '../src/fleet/fleet-service';
import type { RegistryStore } from '../src/registry/registry-store';
import { createFleetActivities } from './fleet';

export interface ActivityDeps {
  registry: RegistryStore;
  bus: EventBus;
  fleet: FleetService;
}

/** Control-plane activities: thin calls into the registry, the bus and the fleet, built once per worker. */
export function createActivities({ registry, bus, fleet }: ActivityDeps) {
  return {
    ...createFleetActivities(fleet),
    /** `msgId` comes from the workflow id and step, so a retried activity never duplicates the event. */
    async publishMessage(message: AgentMessage, msgId: string): Promise<PublishResult> {
      return bus.publish(message, msgId);
    },
    async shareKnowledge(entry: Omit<Knowledge, 'created_at' | 'expires_at'> & { ttl_minutes: number }): Promise<Knowledge> {
      return registry.knowledge.share(entry);
    },
    async readKnowledge(key: string): Promise<Knowledge | null> {
      return (await registry.knowledge.get(key)) ?? null;
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
