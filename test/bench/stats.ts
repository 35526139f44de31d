/** The q-quantile (0..1) of `xs`, nearest rank. */
export function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const median = (xs: number[]) => quantile(xs, 0.5);

export async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

export interface Latencies {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  throughput: number;
}

export function latencies(ms: number[], elapsedMs: number): Latencies {
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    samples: ms.length,
    p50: round(quantile(ms, 0.5)),
    p95: round(quantile(ms, 0.95)),
    p99: round(quantile(ms, 0.99)),
    throughput: round((ms.length / elapsedMs) * 1000),
  };
}
