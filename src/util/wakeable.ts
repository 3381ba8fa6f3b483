/** A backoff sleep that new work can cut short (a drainer waiting for its queue or GitHub to return). */
export class Wakeable {
  private wakeNow: (() => void) | undefined;

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeNow = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeNow = done;
    });
  }

  /** End the current sleep now, if there is one. */
  wake(): void {
    this.wakeNow?.();
  }
}
