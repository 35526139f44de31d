import { z } from 'zod';

export const HealthCheckConfig = z.object({
  interval_secs: z.number().int().min(1).max(3600),
  timeout_secs: z.number().int().min(1).max(600),
  consecutive_failures_threshold: z.number().int().min(1).max(100),
  auto_restart_enabled: z.boolean(),
});
export type HealthCheckConfig = z.infer<typeof HealthCheckConfig>;
