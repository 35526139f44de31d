import type { AgentRole } from '../domain';

/** What assignment knows of one agent: kept in memory by the control plane (see fleet-view.ts). */
export interface Candidate {
  agentId: string;
  role: AgentRole;
  capabilities: string[];
  capacity: number;
  /** Tasks this control plane has handed it and not yet seen finish. */
  reserved: number;
  /** Load from its last heartbeat, 0..1. */
  load: number;
  completed: number;
  failed: number;
}

export interface AssignmentRequest {
  role: AgentRole;
  capability?: string;
  /** Agents that already failed this task. */
  exclude: string[];
}

/** Past success rate, with an optimistic prior so a new agent is not starved. */
export const successRate = (c: Pick<Candidate, 'completed' | 'failed'>) =>
  (c.completed + 1) / (c.completed + c.failed + 1);

/** Higher is better: spare capacity first, then capability match, then track record. */
export function score(c: Candidate, capability?: string): number {
  const load = Math.max(c.load, c.reserved / c.capacity);
  const match = !capability || c.capabilities.includes(capability) ? 1 : 0;
  return 0.5 * (1 - load) + 0.3 * match + 0.2 * successRate(c);
}

/**
 * The agent to give a task to: healthy agents of the role with spare
 * capacity, best score first, ties broken by agent id so the choice is
 * deterministic. Undefined when no agent can take it now.
 */
export function chooseAgent(candidates: Iterable<Candidate>, request: AssignmentRequest): Candidate | undefined {
  let best: Candidate | undefined;
  let bestScore = -Infinity;
  for (const c of candidates) {
    if (c.role !== request.role || c.reserved >= c.capacity || request.exclude.includes(c.agentId)) continue;
    const s = score(c, request.capability);
    if (s > bestScore || (s === bestScore && best !== undefined && c.agentId < best.agentId))
      [best, bestScore] = [c, s];
  }
  return best;
}
