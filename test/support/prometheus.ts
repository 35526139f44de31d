/** One sample of a PromQL instant vector. */
export type Sample = { metric: Record<string, string>; value: [number, string] };

/** A PromQL instant query against the Prometheus at `url`; throws with Prometheus's reason when refused. */
export async function promQuery(url: string, promql: string): Promise<Sample[]> {
  const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await response.json()) as { status: string; data: { result: Sample[] }; error?: string };
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
  return body.data.result;
}

/** The first sample's value (NaN when there is none). */
export const firstValue = (samples: Sample[]) => Number(samples[0]?.value[1] ?? NaN);
