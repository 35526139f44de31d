import type { Client } from '@temporalio/client';
import type { AgentMessage, Knowledge } from '../src/domain';
import { taskWaker } from '../src/client/task-client';
import type { EventBus, PublishResult } from '../src/bus/event-bus';
import type { Deployer } from '../src/deploy/deployer';
import { FleetService } from '../src/control-plane/fleet-service';
import type { Logger } from '../src/logger';
import { DecisionService } from '../src/control-plane/decision-service';
import { FleetView } from '../src/control-plane/fleet-view';
import type { RegistryStore } from '../src/registry/registry-store';
import { createMetrics, type Metrics } from '../src/observability/metrics';
import type { ScrapeTargets } from '../src/control-plane/scrape-targets';
import { ApiAuth } from '../src/control-plane/api-auth';
import { createApprovalActivities } from './approval';
import { createFleetActivities } from './fleet';
import { createWorkActivities, type WorkDeps } from './work';

export interface ActivityDeps extends WorkDeps {
  fleet: FleetService;
  /** The plane's tokens, remade to check approvals' seals. */
  auth: ApiAuth;
}

/** The control plane's services over one registry, bus and deployer; `close` stops the in-memory fleet view. */
export async function openActivityDeps(
  workspaces: { stateDir: string; gitUrl?: string },
  registry: RegistryStore,
  bus: EventBus,
  deployer: Deployer,
  log: Logger,
  options: { temporal: Client; metrics?: Metrics; targets?: ScrapeTargets },
): Promise<ActivityDeps & { close(): void }> {
  const { temporal } = options;
  const view = await FleetView.open(registry, bus, { wake: taskWaker(temporal) });
  const metrics = options.metrics ?? createMetrics();
  return {
    ...workspaces,
    registry,
    bus,
    view,
    metrics,
    temporal,
    fleet: new FleetService(registry, bus, deployer, log, metrics, options.targets),
    decisions: new DecisionService(registry, bus, log),
    auth: ApiAuth.of(workspaces.stateDir),
    close: () => view.close(),
  };
}

/** Control-plane activities: thin calls into the registry, the bus and the fleet, built once per worker. */
export function createActivities(deps: ActivityDeps) {
  const { registry, bus, fleet, auth } = deps;
  return {
    ...createFleetActivities(fleet, deps.temporal),
    ...createApprovalActivities(auth),
    ...createWorkActivities(deps),
    /** `msgId` comes from the workflow id and step, so a retried activity never duplicates the event. */
    async publishMessage(message: AgentMessage, msgId: string): Promise<PublishResult> {
      return bus.publish(message, msgId);
    },
    async shareKnowledge(
      entry: Omit<Knowledge, 'created_at' | 'expires_at'> & { ttl_minutes: number },
    ): Promise<Knowledge> {
      return registry.knowledge.share(entry);
    },
    async readKnowledge(key: string): Promise<Knowledge | null> {
      return (await registry.knowledge.get(key)) ?? null;
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
