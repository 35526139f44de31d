import { isDeepStrictEqual } from 'node:util';
import type { EventBus } from '../bus/event-bus';
import { CONTEXT_STREAM, type Knowledge, type MessageOf } from '../domain';
import type { Logger } from '../logger';
import type { RegistryStore } from '../registry/registry-store';

/** A fact stored this long before it was published, with the same content, is that same sharing. */
const SAME_SHARING_MS = 60_000;

/**
 * Stores every ShareContext message published on the bus as shared knowledge
 * (and so in the retrieval index), whoever sent it: a durable consumer, so
 * what is shared while the control plane is down is stored when it is back.
 * Its time to live runs from when it was published.
 */
export async function takeInSharedContext(
  bus: EventBus,
  registry: RegistryStore,
  log: Logger,
  /** The stack's name (its task queue): each stack on one NATS stores every message. */
  stack: string,
): Promise<() => void> {
  return bus.consume(CONTEXT_STREAM.name, `registry-${stack.replace(/[^\w-]/g, '_')}`, async (message, published) => {
    if (message.type !== 'ShareContext') return;
    const { type: _type, key = `${message.from_agent}/${message.context_type}`, ...entry } = message;
    if (published.getTime() + entry.ttl_minutes * 60_000 <= Date.now()) return; // expired before it was read
    // An agent that stored the fact through the API broadcasts it too: stored once.
    if (isStored(await registry.knowledge.lastShared(key), entry, published)) return;
    await registry.knowledge.share({ key, ...entry }, { now: published });
    log.info('shared context stored', { key, from_agent: entry.from_agent, context_type: entry.context_type });
  });
}

function isStored(
  stored: Knowledge | undefined,
  shared: Omit<MessageOf<'ShareContext'>, 'type' | 'key'>,
  published: Date,
): boolean {
  return (
    stored !== undefined &&
    Date.parse(stored.created_at) >= published.getTime() - SAME_SHARING_MS &&
    stored.from_agent === shared.from_agent &&
    stored.context_type === shared.context_type &&
    isDeepStrictEqual(stored.to_roles, shared.to_roles) &&
    isDeepStrictEqual(stored.data, shared.data)
  );
}
