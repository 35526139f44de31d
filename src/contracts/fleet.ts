import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AgentManifest, HealthCheckConfig } from '../domain';
import type { UpgradeRequest } from './upgrade-request';

/** What agentPoolWorkflow (`pool-<manifestId>`) and agentLifecycleWorkflow (`agent-<agentId>`) share with their clients and activities. */

/** Where a deployed agent instance runs. `podId` is a pod name, or `pid-<n>` for a local process. */
export interface Deployment {
  agentId: string;
  podId: string;
  ip: string;
  port: number;
  startedAt: string;
}

export interface DeployedAgent {
  deployment: Deployment;
  health: HealthCheckConfig;
  healthPath: string;
}

/** Health checks done over an agent's life: uptime_percentage is ok / total. */
export interface HealthStats {
  checks: number;
  ok: number;
}

export interface WatchOutcome {
  /** Consecutive failed checks that ended the watch. */
  failures: number;
  lastError: string;
  /** Whether any check passed during this watch (a restart that worked). */
  sawHealthy: boolean;
  stats: HealthStats;
}

export { MAX_REPLICAS, POOL_STARTS_AT_ONCE } from './replicas';

export interface PoolInput {
  manifestId: string;
  replicas: number;
  /** A manifest to add to the marketplace first (from `vapora agent install <file>`). */
  manifest?: AgentManifest;
}

export type PoolPhase = 'installing' | 'running' | 'scaling' | 'upgrading' | 'uninstalling';

export interface PoolStatus {
  manifestId: string;
  phase: PoolPhase;
  desired: number;
  agents: string[];
  ready: string[];
  warnings: string[];
  /** The version new instances run (absent in pools installed before versions were pinned). */
  version?: string;
  /** Each instance's version. */
  versions?: Record<string, string>;
}

/** What the control plane checked before an upgrade starts. */
export interface UpgradePlan {
  from: string;
  to: string;
  /** How long a new instance has to pass its first health check. */
  healthGateMs: number;
  /** Old instances stopped before their replacements are healthy. */
  maxUnavailable: number;
  warnings: string[];
}

export interface UpgradeResult {
  manifestId: string;
  from: string;
  to: string;
  replaced: number;
  warnings: string[];
  pool: PoolStatus;
}

export interface UninstallResult {
  uninstalled: boolean;
  /** Installed manifests that still need this one. */
  dependents: string[];
}

export const scalePoolUpdate = defineUpdate<PoolStatus, [number]>('scale');
export const uninstallPoolUpdate = defineUpdate<UninstallResult, [{ force: boolean }]>('uninstall');
export const upgradePoolUpdate = defineUpdate<UpgradeResult, [UpgradeRequest]>('upgrade');
export const poolStatusQuery = defineQuery<PoolStatus>('status');

/** `agentId` of the n-th instance of a pool: developer-001, developer-002, … */
export const agentIdFor = (manifestId: string, n: number) => `${manifestId}-${String(n).padStart(3, '0')}`;

export interface LifecycleInput {
  agentId: string;
  manifestId: string;
  /** The manifest version this instance runs, through restarts (its newest when absent: older histories). */
  version?: string;
  /** Carried across continue-as-new. */
  carried?: { agent: DeployedAgent; stats: HealthStats; restarts: number; failedRestarts: number };
}

export type LifecyclePhase = 'deploying' | 'watching' | 'restarting' | 'error' | 'stopping';

export interface LifecycleStatus {
  agentId: string;
  phase: LifecyclePhase;
  deployment?: Deployment;
  restarts: number;
  lastError?: string;
  stats: HealthStats;
}

/** Sent to the parent pool once the instance is deployed, so `scale` returns when the processes exist. */
export const agentDeployedSignal = defineSignal<[string]>('agentDeployed');
/** The same for many instances: a pool's deploys that finish together tell it in one signal. */
export const agentsDeployedSignal = defineSignal<[string[]]>('agentsDeployed');
/** `updating`: a newer version replaces the instance, which shows Updating while it drains. */
export interface StopRequest {
  reason: string;
  updating?: boolean;
}
export const stopAgentSignal = defineSignal<[StopRequest]>('stop');
/**
 * Sent by a control plane that starts: a lifecycle drops the health watch it
 * has (held, perhaps, by a worker that was killed) and starts another, so a
 * killed plane's watches come back at once rather than after their heartbeat timeout.
 */
export const watchAgainSignal = defineSignal('watchAgain');
/** Asks an agent in Error to try again. */
export const retryAgentSignal = defineSignal('retry');
export const lifecycleStatusQuery = defineQuery<LifecycleStatus>('status');
