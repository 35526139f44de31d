import type { Deployment } from '../contracts/fleet';
import type { AgentManifest, HealthCheckConfig } from '../domain';

export interface DeploySpec {
  agentId: string;
  manifest: AgentManifest;
}

/**
 * How agent instances are run: local processes by default, Kubernetes pods
 * beyond one machine. Every verb is idempotent, because activities retry.
 */
export interface Deployer {
  /** Starts the instance, or returns it if it already runs. Resolves once it accepts connections. */
  deploy(spec: DeploySpec): Promise<Deployment>;
  /** Drains and stops the instance (of `version`, when known); a no-op if it is not running. */
  stop(agentId: string, manifestId: string, version?: string): Promise<void>;
  /** Replaces the instance with a fresh one. */
  restart(spec: DeploySpec): Promise<Deployment>;
  /** One health check of a deployed instance. */
  check(deployment: Deployment, probe: HealthProbe): Promise<CheckResult>;
}

/** One health check's outcome, with the load the agent reported. */
export interface CheckResult {
  ok: boolean;
  error?: string;
  runningTasks: number;
}

/** How an instance's health is judged: its manifest's endpoint and thresholds, and when it last sent a heartbeat. */
export interface HealthProbe {
  path: string;
  config: HealthCheckConfig;
  lastHeartbeatAt: number;
}
