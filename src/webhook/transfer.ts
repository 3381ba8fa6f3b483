/**
 * Slow bodies (slowloris): every body being read is looked at a few times a
 * second, and one that takes longer than the body timeout, or whose average
 * rate since it started falls below the minimum once a grace period passed,
 * is stopped. One sweep for all requests costs less than a timer each.
 */

export interface TransferLimits {
  /** The whole body must arrive within this. */
  readonly bodyTimeoutMs: number;
  /** Average bytes per second since the body started, checked after the grace period. */
  readonly minBytesPerSecond: number;
  /** How long a body may start slowly before its rate counts. */
  readonly graceMs: number;
}

export type SlowReason = "body_timeout" | "too_slow";

export interface WatchedTransfer {
  /** Count bytes as they arrive. */
  received(bytes: number): void;
  /** Stop watching (the body ended or was refused). */
  done(): void;
}

interface Entry {
  readonly started: number;
  bytes: number;
  readonly stop: (reason: SlowReason) => void;
}

export class TransferWatch {
  private readonly active = new Set<Entry>();
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;

  constructor(
    private readonly limits: TransferLimits,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.intervalMs = Math.max(10, Math.min(1000, limits.graceMs / 2, limits.bodyTimeoutMs / 4));
  }

  /** `stop` is called at most once, when the transfer is too slow; it should drop the connection. */
  watch(stop: (reason: SlowReason) => void): WatchedTransfer {
    const entry: Entry = { started: this.now(), bytes: 0, stop };
    this.active.add(entry);
    this.timer ??= setInterval(() => this.sweep(), this.intervalMs).unref();
    return {
      received: (bytes) => {
        entry.bytes += bytes;
      },
      done: () => this.forget(entry),
    };
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.active.clear();
  }

  private sweep(): void {
    const now = this.now();
    for (const entry of this.active) {
      const reason = this.verdict(entry, now - entry.started);
      if (reason === undefined) continue;
      this.forget(entry);
      entry.stop(reason);
    }
  }

  private verdict(entry: Entry, elapsedMs: number): SlowReason | undefined {
    const { bodyTimeoutMs, minBytesPerSecond, graceMs } = this.limits;
    if (elapsedMs > bodyTimeoutMs) return "body_timeout";
    if (elapsedMs > graceMs && (entry.bytes * 1000) / elapsedMs < minBytesPerSecond) return "too_slow";
    return undefined;
  }

  private forget(entry: Entry): void {
    this.active.delete(entry);
    if (this.active.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
