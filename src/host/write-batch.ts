import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Items written together: a write starts as soon as the one before it has
 * finished (and, given `everyMs`, no sooner than that long after the one
 * before it began), and carries every item added while it waited. A busy
 * writer makes a few large writes instead of one per item, and an idle one
 * adds no delay. Each add() settles with the write that carried its item.
 */
export class WriteBatch<T> {
  private items: T[] = [];
  private last: Promise<void> = Promise.resolve();
  /** The write not yet begun, which takes every item added until it begins. */
  private next?: Promise<void>;
  private begunAt = -Infinity;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly everyMs = 0,
  ) {}

  add(item: T): Promise<void> {
    this.items.push(item);
    if (!this.next) {
      this.next = this.last
        .catch(() => undefined)
        .then(async () => {
          const wait = this.begunAt + this.everyMs - performance.now();
          if (wait > 0) await sleep(wait);
          this.begunAt = performance.now();
          const items = this.items;
          this.items = [];
          this.next = undefined;
          return this.write(items);
        });
      this.last = this.next;
    }
    return this.next;
  }
}
