/**
 * Items written together: a write starts as soon as the one before it has
 * finished, and carries every item added while it waited. A busy writer makes
 * a few large writes instead of one per item, and an idle one adds no delay.
 * Each add() settles with the write that carried its item.
 */
export class WriteBatch<T> {
  private items: T[] = [];
  private last: Promise<void> = Promise.resolve();
  /** The write not yet begun, which takes every item added until it begins. */
  private next?: Promise<void>;

  constructor(private readonly write: (items: T[]) => Promise<void>) {}

  add(item: T): Promise<void> {
    this.items.push(item);
    if (!this.next) {
      this.next = this.last
        .catch(() => undefined)
        .then(() => {
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
