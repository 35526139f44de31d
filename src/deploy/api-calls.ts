/**
 * Every call the Kubernetes deployer makes to the API server goes through
 * here: counted by kind (for the benchmark), and at most `limit` in flight, so
 * a thousand agents stopping at once queue here instead of opening a thousand
 * connections the API server hangs up on.
 */
export class ApiCalls {
  readonly made = new Map<string, number>();
  private inFlight = 0;
  private readonly queued: (() => void)[] = [];

  constructor(private readonly limit = 32) {}

  count(kind: string): void {
    this.made.set(kind, (this.made.get(kind) ?? 0) + 1);
  }

  async run<T>(kind: string, call: () => Promise<T>): Promise<T> {
    this.count(kind);
    if (this.inFlight >= this.limit) await new Promise<void>((resolve) => this.queued.push(resolve));
    this.inFlight++;
    try {
      return await call();
    } finally {
      this.inFlight--;
      this.queued.shift()?.();
    }
  }
}
