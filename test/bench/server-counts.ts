import type { Client } from '@temporalio/client';
import proto, { type temporal } from '@temporalio/proto';

const EventType = proto.temporal.api.enums.v1.EventType;

/** What a unit of work made the server do, per unit: read from histories and the server's own counters. */
export interface ServerCounts {
  /** History events in all. */
  events: number;
  workflowTasks: number;
  activities: number;
  localActivities: number;
  timers: number;
  /** Search-attribute upserts: each a visibility write of its own. */
  upserts: number;
  childStarts: number;
}

const COUNTED: [keyof ServerCounts, temporal.api.enums.v1.EventType][] = [
  ['workflowTasks', EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED],
  ['activities', EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED],
  // The SDKs record each local activity's result as a marker.
  ['localActivities', EventType.EVENT_TYPE_MARKER_RECORDED],
  ['timers', EventType.EVENT_TYPE_TIMER_STARTED],
  ['upserts', EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES],
  ['childStarts', EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED],
];

/**
 * The mean counts over `workflowIds`' histories, plus, when `perUpdate` is
 * given, the share of the long-lived workflows' events (the dispatchers')
 * each Update they accepted in [from, to] cost.
 */
export async function historyCounts(
  client: Client,
  workflowIds: string[],
  perUpdate?: { query: string; from: Date; to: Date },
): Promise<ServerCounts> {
  const total = Object.fromEntries(
    ['events', ...COUNTED.map(([k]) => k)].map((k) => [k, 0]),
  ) as unknown as ServerCounts;
  const add = (types: temporal.api.enums.v1.EventType[], share: number) => {
    total.events += types.length / share;
    for (const [key, type] of COUNTED) total[key] += types.filter((t) => t === type).length / share;
  };
  for (const id of workflowIds) add(await eventTypes(client, id), workflowIds.length);
  if (perUpdate) {
    const types: temporal.api.enums.v1.EventType[] = [];
    for await (const w of client.workflow.list({ query: perUpdate.query })) {
      if (w.closeTime && w.closeTime < perUpdate.from) continue;
      types.push(...(await eventTypes(client, w.workflowId, w.runId, perUpdate)));
    }
    const updates = types.filter((t) => t === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED).length;
    if (updates) add(types, updates);
  }
  const round = (x: number) => Math.round(x * 100) / 100;
  return Object.fromEntries(Object.entries(total).map(([k, v]) => [k, round(v)])) as unknown as ServerCounts;
}

async function eventTypes(
  client: Client,
  workflowId: string,
  runId?: string,
  within?: { from: Date; to: Date },
): Promise<temporal.api.enums.v1.EventType[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return (history.events ?? [])
    .filter((e) => {
      if (!within) return true;
      const at = Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
      return at >= within.from.getTime() && at <= within.to.getTime();
    })
    .map((e) => e.eventType ?? EventType.EVENT_TYPE_UNSPECIFIED);
}

/** The dev server's persistence operations so far, by operation (its `persistence_requests` counters, visibility's too). */
export async function persistenceOps(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const ops: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(visibility_)?persistence_requests\{([^}]*)\} (\S+)$/.exec(line);
    const operation = m && /operation="([^"]+)"/.exec(m[2]!)?.[1];
    if (!m || !operation) continue;
    ops[operation] = (ops[operation] ?? 0) + Number(m[3]);
  }
  return ops;
}

/** Persistence operations per unit between two readings of `persistenceOps`: all of them, and the `top` most frequent. */
export function persistencePerUnit(
  before: Record<string, number>,
  after: Record<string, number>,
  units: number,
  top: number,
): { persistence: number; topPersistence: Record<string, number> } {
  const round = (x: number) => Math.round(x * 10) / 10;
  const ops = Object.entries(after)
    .map(([op, n]) => [op, round((n - (before[op] ?? 0)) / units)] as const)
    .filter(([, n]) => n > 0)
    .sort(([, a], [, b]) => b - a);
  return {
    persistence: round(ops.reduce((sum, [, n]) => sum + n, 0)),
    topPersistence: Object.fromEntries(ops.slice(0, top)),
  };
}
