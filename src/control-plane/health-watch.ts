import type { Subscription } from 'nats';
import type { EventBus } from '../bus/event-bus';
import { SUBJECTS } from '../domain';

/** Follows an agent's NATS heartbeats; `since` counts as the first one, to give a new instance time to speak. */
export function followHeartbeats(
  bus: EventBus,
  agentId: string,
  since: number,
): { last: () => number; stop: () => void } {
  let last = since;
  const sub: Subscription = bus.subscribe(`${SUBJECTS.Heartbeat}.${agentId}`, (m) => {
    if (m.type === 'Heartbeat') last = Date.now();
  });
  return { last: () => last, stop: () => sub.unsubscribe() };
}
