/** A QueueBackend in front of a real one whose publish can be made to fail or hang, for spool tests. */
import type { QueueBackend } from "../../src/queue/types.js";
import { type Harness, type HarnessOptions, startHarness } from "./harness.js";

export type QueueMode = "up" | "down" | "hang";

export class FlakyQueue implements QueueBackend {
  mode: QueueMode = "up";
  /** Publishes that were attempted while hanging; release() lets them through. */
  private readonly held: (() => void)[] = [];
  publishes = 0;

  constructor(private readonly inner: QueueBackend) {}

  get driver() {
    return this.inner.driver;
  }

  async publish(...args: Parameters<QueueBackend["publish"]>): Promise<void> {
    this.publishes += 1;
    if (this.mode === "down") throw new Error("connection refused (test)");
    if (this.mode === "hang") await new Promise<void>((resolve) => this.held.push(resolve));
    return this.inner.publish(...args);
  }

  /** Lets every hanging publish go on to the real queue. */
  release(): void {
    for (const go of this.held.splice(0)) go();
  }

  consume: QueueBackend["consume"] = (...args) => this.inner.consume(...args);
  inspect: QueueBackend["inspect"] = (...args) => this.inner.inspect(...args);
  purge: QueueBackend["purge"] = (...args) => this.inner.purge(...args);
  close: QueueBackend["close"] = () => this.inner.close();
}

/** A spooling webhook harness whose queue is a FlakyQueue the test switches up, down or hanging. */
export async function startFlakyHarness(
  options: Omit<HarnessOptions, "spool" | "wrapQueue"> = {},
): Promise<{ h: Harness; queue: FlakyQueue }> {
  let flaky: FlakyQueue | undefined;
  const h = await startHarness({
    ...options,
    spool: true,
    wrapQueue: (queue) => {
      flaky = new FlakyQueue(queue);
      return flaky;
    },
  });
  return { h, queue: flaky as FlakyQueue };
}
