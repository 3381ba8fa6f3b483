/**
 * The bytes of request bodies the webhook holds at once, across all requests.
 * A request reserves its declared Content-Length before its body is read (or
 * each chunk as it comes, without one) and gives it back once answered; one
 * that does not fit is refused with 503 instead of growing memory.
 */

export class ByteBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Bytes reserved now. */
  get inUse(): number {
    return this.used;
  }

  /** A reservation of nothing yet, to grow as the request needs. */
  open(): Reservation {
    return new Reservation(this);
  }

  /** For Reservation only. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  /** For Reservation only. */
  give(bytes: number): void {
    this.used -= bytes;
  }
}

export class Reservation {
  private held = 0;
  private released = false;

  constructor(private readonly budget: ByteBudget) {}

  /** Holds `bytes` more; false (holding nothing more) when the budget cannot spare them. */
  grow(bytes: number): boolean {
    if (this.released || !this.budget.take(bytes)) return false;
    this.held += bytes;
    return true;
  }

  /** Holds at least `bytes` in total. */
  ensure(bytes: number): boolean {
    return bytes <= this.held || this.grow(bytes - this.held);
  }

  /** Gives everything back; later grow() calls fail. Safe to call twice. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.give(this.held);
    this.held = 0;
  }
}
