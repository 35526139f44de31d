import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the gauges read when Prometheus scrapes: the registry and Temporal, asked then rather than kept in step. */
export interface GaugeSources {
  /** Every agent's role and status. */
  agents(): Promise<{ role: string; status: string }[]>;
  /** Features waiting at their approval gate for a person. */
  approvalsPending(): Promise<number>;
  /** Features that have ended, by outcome. */
  featuresEnded(): Promise<Record<string, number>>;
  /** The largest share of its budget a running feature has spent (0 when none runs). */
  featureBudgetUsed(): Promise<number>;
  /** Queries made to SurrealDB since the process started. */
  registryQueries(): number;
}

const SECONDS_FAST = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SECONDS_SLOW = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/**
 * The metrics of one process, for its `/metrics`: Vapora's own and Node's
 * (CPU, memory, event loop). Labels are bounded: roles, statuses, outcomes,
 * providers, models, subjects, reasons and API routes, never a task, feature or agent id.
 * The gauges exist where their sources are given (the control plane).
 */
export function createMetrics(sources?: GaugeSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  if (sources) {
    new Gauge({
      name: 'vapora_agents',
      help: 'Agents by role and status',
      labelNames: ['role', 'status'],
      registers,
      async collect() {
        this.reset();
        for (const { role, status } of await sources.agents()) this.inc({ role, status });
      },
    });
    new Gauge({
      name: 'vapora_approvals_pending',
      help: 'Features waiting at their approval gate for a person',
      registers,
      async collect() {
        this.set(await sources.approvalsPending());
      },
    });
    new Gauge({
      name: 'vapora_feature_budget_used_ratio',
      help: 'The largest share of its budget a running feature has spent (1 = all of it)',
      registers,
      async collect() {
        this.set(await sources.featureBudgetUsed());
      },
    });
    new Counter({
      name: 'vapora_registry_queries_total',
      help: 'Queries the control plane made to SurrealDB (the registry and shared context)',
      registers,
      collect() {
        this.reset();
        this.inc(sources.registryQueries());
      },
    });
    let counted: Record<string, number> = {};
    new Counter({
      name: 'vapora_features_total',
      help: 'Features that have ended, by outcome (counted from the closed feature workflows Temporal retains)',
      labelNames: ['outcome'],
      registers,
      async collect() {
        // A counter never goes down: features Temporal no longer retains stay counted.
        const ended = await sources.featuresEnded();
        for (const [outcome, n] of Object.entries(ended))
          this.inc({ outcome }, Math.max(0, n - (counted[outcome] ?? 0)));
        counted = Object.fromEntries(Object.entries(ended).map(([o, n]) => [o, Math.max(n, counted[o] ?? 0)]));
      },
    });
  }
  return {
    registry,
    eventsPublished: new Counter({
      name: 'vapora_events_published_total',
      help: 'Messages published on NATS, by subject',
      labelNames: ['subject'],
      registers,
    }),
    agentRestarts: new Counter({
      name: 'vapora_agent_restarts_total',
      help: 'Agent instances restarted by their lifecycle, by role',
      labelNames: ['role'],
      registers,
    }),
    healthCheckSeconds: new Histogram({
      name: 'vapora_agent_health_check_seconds',
      help: 'Time an agent health check took, by whether it passed',
      labelNames: ['ok'],
      buckets: SECONDS_FAST,
      registers,
    }),
    tasks: new Counter({
      name: 'vapora_tasks_total',
      help: 'Tasks that ended, by role and outcome (completed or failed)',
      labelNames: ['role', 'outcome'],
      registers,
    }),
    assignmentSeconds: new Histogram({
      name: 'vapora_task_assignment_seconds',
      help: 'From a task submitted to its TaskAssigned published',
      buckets: SECONDS_FAST,
      registers,
    }),
    taskDurationSeconds: new Histogram({
      name: 'vapora_task_duration_seconds',
      help: 'Time a completed task took on its agent, by role',
      labelNames: ['role'],
      buckets: SECONDS_SLOW,
      registers,
    }),
    llmTokens: new Counter({
      name: 'vapora_llm_tokens_total',
      help: 'LLM tokens of ended tasks, by provider, model, role and kind (input or output)',
      labelNames: ['provider', 'model', 'role', 'kind'],
      registers,
    }),
    llmCostUsd: new Counter({
      name: 'vapora_llm_cost_usd_total',
      help: 'LLM cost of ended tasks in US dollars, by provider, model and role',
      labelNames: ['provider', 'model', 'role'],
      registers,
    }),
    apiRequests: new Counter({
      name: 'vapora_api_requests_total',
      help: "Requests the control plane's API answered, by method, route (its pattern, e.g. /v1/artifacts/:id) and status",
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    escalations: new Counter({
      name: 'vapora_escalations_total',
      help: 'Escalations to the DecisionMaker, by reason (the decision type)',
      labelNames: ['reason'],
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
