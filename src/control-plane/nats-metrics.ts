import { Counter, Gauge, Registry } from 'prom-client';
import { z } from 'zod';

// Only the fields read; nats-server's monitoring JSON carries many more.
const Varz = z.object({
  connections: z.number(),
  subscriptions: z.number(),
  slow_consumers: z.number(),
  in_msgs: z.number(),
  out_msgs: z.number(),
  in_bytes: z.number(),
  out_bytes: z.number(),
  mem: z.number(),
  cpu: z.number(),
});
const Jsz = z.object({
  streams: z.number(),
  consumers: z.number(),
  messages: z.number(),
  bytes: z.number(),
  account_details: z
    .array(
      z.object({
        stream_detail: z
          .array(
            z.object({
              name: z.string(),
              state: z.object({ messages: z.number(), bytes: z.number() }),
              consumer_detail: z
                .array(z.object({ name: z.string(), num_pending: z.number(), num_ack_pending: z.number() }))
                .default([]),
            }),
          )
          .default([]),
      }),
    )
    .default([]),
});

/**
 * nats-server's monitoring endpoint (`-m`, JSON at /varz and /jsz) in
 * Prometheus's text format, read afresh at each scrape: the exporter
 * Prometheus scrapes as the `nats-server` job. A scrape fails (and the
 * target shows down) when nats-server does not answer.
 */
export function natsMetrics(monitorUrl: string) {
  const registry = new Registry();
  const registers = [registry];
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers });
  // nats-server keeps the totals; a counter here mirrors them.
  const counter = (name: string, help: string) => new Counter({ name, help, registers });
  const levels = {
    connections: gauge('nats_server_connections', 'Client connections open'),
    subscriptions: gauge('nats_server_subscriptions', 'Subscriptions held'),
    mem: gauge('nats_server_memory_bytes', 'Resident memory of nats-server'),
    cpu: gauge('nats_server_cpu_percent', 'CPU use of nats-server, in percent of one core'),
  };
  const totals = {
    slow_consumers: counter('nats_server_slow_consumers_total', 'Clients dropped for reading too slowly'),
    in_msgs: counter('nats_server_messages_received_total', 'Messages published to nats-server'),
    out_msgs: counter('nats_server_messages_sent_total', 'Messages delivered by nats-server'),
    in_bytes: counter('nats_server_bytes_received_total', 'Bytes published to nats-server'),
    out_bytes: counter('nats_server_bytes_sent_total', 'Bytes delivered by nats-server'),
  };
  const jetstream = {
    streams: gauge('nats_jetstream_streams', 'JetStream streams'),
    consumers: gauge('nats_jetstream_consumers', 'JetStream consumers'),
    messages: gauge('nats_jetstream_messages', 'Messages stored in JetStream'),
    bytes: gauge('nats_jetstream_bytes', 'Bytes stored in JetStream'),
  };
  const streamMessages = gauge('nats_jetstream_stream_messages', 'Messages stored, by stream', ['stream']);
  const pending = gauge('nats_jetstream_consumer_pending', 'Messages not yet delivered, by consumer', [
    'stream',
    'consumer',
  ]);
  const ackPending = gauge('nats_jetstream_consumer_ack_pending', 'Messages delivered, not yet acknowledged', [
    'stream',
    'consumer',
  ]);

  const read = async <T>(path: string, schema: z.ZodType<T>): Promise<T> => {
    const response = await fetch(new URL(path, monitorUrl), { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`nats-server monitoring ${path} answered ${response.status}`);
    return schema.parse(await response.json());
  };

  return {
    contentType: registry.contentType,
    async metrics(): Promise<string> {
      const [varz, jsz] = await Promise.all([read('/varz', Varz), read('/jsz?streams=true&consumers=true', Jsz)]);
      for (const [field, metric] of Object.entries(levels)) metric.set(varz[field as keyof typeof levels]);
      for (const [field, metric] of Object.entries(totals)) {
        metric.reset();
        metric.inc(varz[field as keyof typeof totals]);
      }
      for (const [field, metric] of Object.entries(jetstream)) metric.set(jsz[field as keyof typeof jetstream]);
      // Streams and consumers that were removed must not linger.
      for (const metric of [streamMessages, pending, ackPending]) metric.reset();
      for (const stream of jsz.account_details.flatMap((a) => a.stream_detail)) {
        streamMessages.set({ stream: stream.name }, stream.state.messages);
        for (const consumer of stream.consumer_detail) {
          const labels = { stream: stream.name, consumer: consumer.name };
          pending.set(labels, consumer.num_pending);
          ackPending.set(labels, consumer.num_ack_pending);
        }
      }
      return registry.metrics();
    },
  };
}
