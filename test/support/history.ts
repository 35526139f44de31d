import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

/** The activities a workflow's history shows completed, by type, in order. */
export function completedActivities(events: temporal.api.history.v1.IHistoryEvent[]): string[] {
  const types = new Map<string, string>();
  for (const e of events)
    if (e.activityTaskScheduledEventAttributes)
      types.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
  return events.flatMap((e) =>
    e.activityTaskCompletedEventAttributes
      ? [types.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId)) ?? '?']
      : [],
  );
}

/**
 * A history as its reader could read it: its JSON, then every payload in it
 * (inputs, results, signals, Updates, markers) decoded through `codec`, as text.
 */
export async function historyText(history: temporal.api.history.v1.IHistory, codec?: PayloadCodec): Promise<string> {
  const payloads: Payload[] = [];
  const collect = (value: unknown): void => {
    if (!value || typeof value !== 'object' || value instanceof Uint8Array) return;
    if ('metadata' in value && 'data' in value) payloads.push(value as Payload);
    else for (const inner of Object.values(value)) collect(inner);
  };
  collect(history);
  const decoded = codec ? await codec.decode(payloads) : payloads;
  // An empty payload's data is the proto module's shared empty array, not bytes: Buffer.from takes both.
  return [JSON.stringify(history), ...decoded.map((p) => Buffer.from(p.data ?? []).toString())].join('\n');
}

/** The timers a workflow's history shows started: each one's summary (decoded through `codec`) and duration. */
export async function startedTimers(
  events: temporal.api.history.v1.IHistoryEvent[],
  codec?: PayloadCodec,
): Promise<{ summary: string; ms: number }[]> {
  const read = async (p: Payload) =>
    defaultPayloadConverter.fromPayload<string>(codec ? (await codec.decode([p]))[0]! : p);
  return Promise.all(
    events.flatMap((e) => {
      if (!e.timerStartedEventAttributes) return [];
      const timeout = e.timerStartedEventAttributes.startToFireTimeout;
      const summary = e.userMetadata?.summary as Payload | undefined;
      const ms = Number(timeout?.seconds ?? 0) * 1000 + Math.round((timeout?.nanos ?? 0) / 1e6);
      return [(summary ? read(summary) : Promise.resolve('')).then((s) => ({ summary: s, ms }))];
    }),
  );
}
