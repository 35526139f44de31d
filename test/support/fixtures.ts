import type { AgentInstance, AgentManifestInput, AgentMetadata } from '../../src/domain';

/** A valid developer manifest; tests change one field at a time. */
export function developerManifest(overrides: Partial<AgentManifestInput> = {}): AgentManifestInput {
  return {
    id: 'developer',
    name: 'Developer Agent',
    version: '0.1.0',
    role: 'developer',
    docker_image: 'vapora/agents:developer-0.1.0',
    resources: { cpu: '500m', memory: '512Mi' },
    dependencies: [{ agent_id: 'architect', role: 'architect', min_version: '0.1.0', optional: false }],
    health_check_endpoint: '/health',
    health_check: { interval_secs: 5, timeout_secs: 2, consecutive_failures_threshold: 3, auto_restart_enabled: true },
    capabilities: [
      { id: 'implement-code', name: 'Implement code', description: 'Writes code from an ADR', complexity: 'Medium' },
    ],
    llm_provider: 'claude',
    llm_model: 'claude-sonnet-4-5',
    max_concurrent_tasks: 3,
    ...overrides,
  };
}

/** A registered developer agent; tests change what they need. */
export function agentMetadata(id: string, overrides: Partial<AgentMetadata> = {}): AgentMetadata {
  const now = new Date().toISOString();
  return {
    id,
    manifest_id: 'developer',
    role: 'developer',
    name: 'Developer',
    version: '0.1.0',
    status: 'Active',
    capabilities: [{ id: 'implement-code', name: 'Implement', description: '', complexity: 'Medium' }],
    skills: ['ts'],
    llm_provider: 'offline',
    llm_model: 'offline-1',
    dependencies: ['architect'],
    dependents: [],
    health_check: { interval_secs: 5, timeout_secs: 2, consecutive_failures_threshold: 3, auto_restart_enabled: true },
    max_concurrent_tasks: 2,
    current_tasks: 0,
    queue_depth: 0,
    created_at: now,
    last_health_check: now,
    uptime_percentage: 100,
    ...overrides,
  };
}

/** A running instance of `agentId` that has done nothing yet. */
export function agentInstance(agentId: string, overrides: Partial<AgentInstance> = {}): AgentInstance {
  const now = new Date().toISOString();
  return {
    agent_id: agentId,
    pod_id: 'pid-4242',
    ip: '127.0.0.1',
    port: 4100,
    start_time: now,
    last_heartbeat: now,
    tasks_completed: 0,
    tasks_failed: 0,
    avg_task_duration_ms: 0,
    error_count: 0,
    restart_count: 0,
    tokens_used: 0,
    cost_incurred: 0,
    ...overrides,
  };
}
