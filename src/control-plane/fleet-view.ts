import type { Subscription } from 'nats';
import {
  SUBJECTS,
  statusLabel,
  subjectsOf,
  type AgentInstance,
  type AgentMetadata,
  type AgentRole,
  type TaskPriority,
} from '../domain';
import type { EventBus } from '../bus/event-bus';
import type { RegistryStore } from '../registry/registry-store';
import { chooseAgent, type AssignmentRequest, type Candidate } from './assignment';

type Entry = Candidate & { active: boolean; heartbeatSecs: number; lastBeat?: number };

/** A heartbeat older than this many intervals means the agent cannot be trusted with new work. */
const STALE_BEATS = 3;

/** A task that found no free agent: in its role's queue until it asks again and gets one. */
interface Waiter {
  role: AgentRole;
  priority: TaskPriority;
  /** Since when it has waited (first come, first served within a priority): the task's own time when it gives one. */
  since: number;
  /** Its arrival here, between tasks waiting since the same moment. */
  arrival: number;
  /** When it last asked: a waiter asks at least every 30 s (workflows/wake-up.ts), so one silent longer has gone. */
  askedAt: number;
  /** When it was last woken for its turn: one that does not come to ask has gone (escalated, ended). */
  wokenAt?: number;
}
const WAITER_GONE_MS = 45_000;
const WOKEN_GONE_MS = 10_000;
const RANK: Record<TaskPriority, number> = { critical: 3, high: 2, normal: 1, low: 0 };
/** Queue order: higher priority first, then who came first. */
const order = (a: Waiter, b: Waiter) =>
  RANK[b.priority] - RANK[a.priority] || a.since - b.since || a.arrival - b.arrival;

export interface QueuedRequest extends AssignmentRequest {
  /** Who asks: a task that gets no agent waits in its role's queue under this id. */
  taskId?: string;
  /** The task's attempt: asked again for the same attempt, the answer is the agent already reserved. */
  attempt?: number;
  priority?: TaskPriority;
  /**
   * Since when the task has waited (ms): its place in the queue, kept while it
   * escalates and across the control plane's restarts, which forget the queue.
   */
  queuedSince?: number;
}

/**
 * The control plane's in-memory picture of who can take work, so assigning a
 * task costs no database or network round trip: loaded from the registry,
 * kept current by heartbeats and status changes on NATS, refreshed now and then.
 */
export class FleetView {
  private readonly agents = new Map<string, Entry>();
  private readonly waiting = new Map<string, Waiter>();
  /** The agent reserved for each task attempt (`<task>/<attempt>`), until the attempt ends. */
  private readonly held = new Map<string, string>();
  private arrivals = 0;
  private readonly subscriptions: Subscription[] = [];
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly registry: RegistryStore,
    bus: EventBus,
    refreshMs: number,
    /** Tells a waiting task an agent is free for it now (it would otherwise ask again within 30 s). */
    private readonly wake: (taskId: string) => void,
  ) {
    this.subscriptions.push(
      bus.subscribe(subjectsOf('Heartbeat'), (m) => {
        const entry = m.type === 'Heartbeat' && this.agents.get(m.agent_id);
        if (entry) Object.assign(entry, { load: m.load, lastBeat: Date.now(), active: m.status === 'Active' });
      }),
      bus.subscribe(SUBJECTS.AgentStatusChanged, async (m) => {
        if (m.type === 'AgentStatusChanged') await this.refreshAgent(m.agent_id);
      }),
    );
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), refreshMs).unref();
  }

  static async open(
    registry: RegistryStore,
    bus: EventBus,
    { refreshMs = 5_000, wake = () => undefined }: { refreshMs?: number; wake?: (taskId: string) => void } = {},
  ): Promise<FleetView> {
    const view = new FleetView(registry, bus, refreshMs, wake);
    await view.refresh();
    return view;
  }

  async refresh(): Promise<void> {
    const [agents, instances] = await Promise.all([this.registry.agents.list(), this.registry.instances.list()]);
    const stats = new Map(instances.map((i) => [i.agent_id, i]));
    const seen = new Set(agents.map((a) => a.id));
    for (const a of agents) this.take(a, stats.get(a.id));
    for (const id of this.agents.keys()) if (!seen.has(id)) this.agents.delete(id);
    await this.showQueues(agents);
    this.wakeWaiters();
  }

  /**
   * One agent whose status changed: two reads. A full refresh reads the whole
   * fleet, and a pool scaled to 1000 changes 1000 statuses.
   */
  async refreshAgent(agentId: string): Promise<void> {
    const [agent, instance] = await Promise.all([
      this.registry.agents.get(agentId),
      this.registry.instances.get(agentId),
    ]);
    if (!agent) return void this.agents.delete(agentId);
    this.take(agent, instance);
    await this.showQueues([agent]);
    this.wakeWaiters(agent.role);
  }

  private take(a: AgentMetadata, instance: AgentInstance | undefined): void {
    const previous = this.agents.get(a.id);
    this.agents.set(a.id, {
      agentId: a.id,
      role: a.role,
      capabilities: a.capabilities.map((c) => c.id),
      capacity: a.max_concurrent_tasks,
      reserved: previous?.reserved ?? 0,
      load: previous?.load ?? 0,
      completed: instance?.tasks_completed ?? 0,
      failed: instance?.tasks_failed ?? 0,
      active: statusLabel(a.status) === 'Active' && !!instance,
      heartbeatSecs: a.health_check.interval_secs,
      lastBeat: previous?.lastBeat,
    });
  }

  /** The registry shows each agent's queue: the tasks waiting for an agent of its role. */
  private async showQueues(agents: AgentMetadata[]): Promise<void> {
    const depth = this.queueDepths();
    for (const a of agents)
      if (a.queue_depth !== (depth.get(a.role) ?? 0))
        await this.registry.agents.update(a.id, (r) => ({ ...r, queue_depth: depth.get(r.role) ?? 0 }));
  }

  /**
   * Picks an agent and reserves one of its slots (see chooseAgent for the
   * rule), unless tasks ahead of this one in its role's queue (a higher
   * priority, or as high and waiting longer) take every free slot: then it
   * waits in the queue, and is woken when a slot is its own.
   */
  assign(request: QueuedRequest, now = Date.now()): Candidate | undefined {
    // Asked again for an attempt already given an agent (its workflow task timed out and ran again, say):
    // the same agent, not a second slot that nobody would ever free.
    const key = request.taskId && `${request.taskId}/${request.attempt ?? 1}`;
    const already = key && this.agents.get(this.held.get(key) ?? '');
    if (already) return { ...already };
    this.forgetGone(now);
    const queued = request.taskId ? this.waiting.get(request.taskId) : undefined;
    const me: Waiter = {
      role: request.role,
      priority: request.priority ?? 'normal',
      since: Math.min(queued?.since ?? now, request.queuedSince ?? now),
      arrival: queued?.arrival ?? ++this.arrivals,
      askedAt: now,
    };
    const before = [...this.waiting].filter(
      ([id, w]) => id !== request.taskId && w.role === me.role && order(w, me) < 0,
    );
    const free = this.freeSlots(me.role, now, request.exclude);
    const chosen = before.length < free ? chooseAgent(this.healthy(now), request) : undefined;
    if (request.taskId) {
      if (chosen) this.waiting.delete(request.taskId);
      else this.waiting.set(request.taskId, me);
    }
    if (!chosen) return undefined;
    chosen.reserved++;
    if (key) this.held.set(key, chosen.agentId);
    return { ...chosen };
  }

  /** An attempt handed to `agentId` ended: its slot is free again (for the first task waiting) and its record counts the outcome. */
  release(agentId: string, succeeded: boolean, attempt?: { taskId: string; attempt: number }): void {
    if (attempt) this.held.delete(`${attempt.taskId}/${attempt.attempt}`);
    const entry = this.agents.get(agentId);
    if (!entry) return;
    entry.reserved = Math.max(0, entry.reserved - 1);
    if (succeeded) entry.completed++;
    else entry.failed++;
    this.wakeWaiters(entry.role);
  }

  /** Tasks waiting for an agent, by role. */
  queueDepths(now = Date.now()): Map<AgentRole, number> {
    this.forgetGone(now);
    const depth = new Map<AgentRole, number>();
    for (const w of this.waiting.values()) depth.set(w.role, (depth.get(w.role) ?? 0) + 1);
    return depth;
  }

  private healthy(now: number): Entry[] {
    return [...this.agents.values()].filter(
      (a) => a.active && (a.lastBeat === undefined || now - a.lastBeat < STALE_BEATS * a.heartbeatSecs * 1000),
    );
  }

  private freeSlots(role: AgentRole, now: number, exclude: string[] = []): number {
    return this.healthy(now)
      .filter((a) => a.role === role && !exclude.includes(a.agentId))
      .reduce((n, a) => n + Math.max(0, a.capacity - a.reserved), 0);
  }

  /** Wakes, per role, as many of the first waiting tasks as there are free slots. */
  private wakeWaiters(role?: AgentRole, now = Date.now()): void {
    this.forgetGone(now);
    const roles = role ? [role] : new Set([...this.waiting.values()].map((w) => w.role));
    for (const r of roles) {
      const queue = [...this.waiting].filter(([, w]) => w.role === r).sort(([, a], [, b]) => order(a, b));
      // Free slots are counted over the whole fleet: not for each of a scale's 2000 status changes when no task waits.
      if (!queue.length) continue;
      // Once per turn: a task already woken is on its way (or gone, see forgetGone).
      for (const [taskId, w] of queue.slice(0, this.freeSlots(r, now)))
        if (w.wokenAt === undefined) {
          w.wokenAt = now;
          this.wake(taskId);
        }
    }
  }

  private forgetGone(now: number): void {
    for (const [id, w] of this.waiting)
      if (now - w.askedAt > WAITER_GONE_MS || (w.wokenAt !== undefined && now - w.wokenAt > WOKEN_GONE_MS))
        this.waiting.delete(id);
  }

  close(): void {
    clearInterval(this.timer);
    for (const s of this.subscriptions) s.unsubscribe();
  }
}
