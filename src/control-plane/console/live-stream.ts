import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { EventBus, StoredEvent } from '../../bus/event-bus';
import { eventLine, eventOf } from '../../client/event-line';
import { SUBJECTS } from '../../domain';
import type { Html } from './page';
import { escapeHtml } from './render-content';

/** What a page is fed: its fragment rendered afresh, or the events it lists. */
export type LiveView =
  | { view: 'fleet'; render: () => Html }
  | { view: 'feature'; featureId: string; render: () => Html }
  | { view: 'events'; feature?: string; type?: string };

/** How far back the events page starts, so a reload shows what it showed before. */
const REPLAY_MS = 15 * 60_000;
/** Fragments are re-rendered at most this often, and at least this often for what NATS does not announce (load, phase). */
const RENDER_MS = 1_000;
const TICK_MS = 5_000;

/**
 * Server-Sent Events fed from NATS: the page holds one connection and the
 * server pushes a fragment when something it shows changed; the page never polls.
 */
export function liveStream(c: Context, bus: EventBus, live: LiveView): Response {
  return streamSSE(c, async (stream) => {
    const stop = new AbortController();
    stream.onAbort(() => stop.abort());
    if (live.view === 'events') return sendEvents(stream, bus, live, stop.signal);
    let last = '';
    let timer: NodeJS.Timeout | undefined;
    const push = async () => {
      const fragment = (await live.render()).toString();
      if (fragment === last) return;
      last = fragment;
      await stream.writeSSE({ event: live.view, data: fragment });
    };
    // Changes that arrive together are shown once. A render that fails (Temporal or the registry out of reach for a
    // moment, the feature deleted) is tried again at the next change or tick, and never takes the process down.
    const soon = () => {
      timer ??= setTimeout(
        () =>
          void push()
            .catch(() => undefined)
            .finally(() => (timer = undefined)),
        RENDER_MS,
      );
    };
    last = (await live.render()).toString(); // what the page was just rendered with
    const tick = setInterval(soon, TICK_MS);
    const subscriptions =
      live.view === 'fleet'
        ? [bus.subscribe(SUBJECTS.AgentStatusChanged, soon)]
        : [bus.subscribe('vapora.tasks.>', (m) => void (eventOf(m, live.featureId) && soon()))];
    await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
    clearInterval(tick);
    clearTimeout(timer);
    for (const s of subscriptions) s.unsubscribe();
  });
}

async function sendEvents(
  stream: SSEStreamingApi,
  bus: EventBus,
  { feature, type }: { feature?: string; type?: string },
  signal: AbortSignal,
): Promise<void> {
  const statusChanges =
    !type || type === 'AgentStatusChanged'
      ? bus.subscribe(SUBJECTS.AgentStatusChanged, (message) => {
          if (feature) return;
          const event = { seq: 0, subject: SUBJECTS.AgentStatusChanged, time: new Date(), message };
          void stream.writeSSE({ event: 'event', data: eventItem(event) });
        })
      : undefined;
  try {
    for await (const event of bus.events({ follow: true, since: new Date(Date.now() - REPLAY_MS), signal })) {
      if (feature && !eventOf(event.message, feature)) continue;
      if (type && event.message.type !== type) continue;
      await stream.writeSSE({ event: 'event', data: eventItem(event), id: String(event.seq) });
    }
  } finally {
    statusChanges?.unsubscribe();
  }
}

export function eventItem(event: StoredEvent): string {
  const m = event.message;
  const text =
    m.type === 'AgentStatusChanged'
      ? `${event.time.toISOString().slice(11, 19)}  ${m.agent_id}: ${JSON.stringify(m.from)} → ${JSON.stringify(m.to)} (${m.reason})`
      : eventLine(event);
  return `<li data-type="${m.type}"><span class="type">${m.type}</span> <code>${escapeHtml(text)}</code></li>`;
}
