/**
 * The behaviour every queue backend shares (see src/queue/types.ts), as one
 * suite each backend's test file runs with its own hooks.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import type { Delivery, QueueBackend, QueueLayout } from "../../src/queue/types.js";
import { type ChildSpec, preciseNow } from "./fixtures/protocol.js";
import type { QueueChild } from "./fixtures/spawn.js";
import { waitUntil } from "./fixtures/wait.js";

export interface ConformanceHooks {
  /** Before each test: a fresh environment (a new database file, or new queue names on a broker). */
  beforeEach(): Promise<void>;
  /** After each test, once its backends are closed and its children killed: remove the environment. */
  afterEach(): Promise<void>;
  /** The layout makeBackend opens with in the current environment. */
  layout(): QueueLayout;
  /** Restart the broker (or whatever holds state outside the test process); all backends are closed. */
  restart(): Promise<void>;
  /** Start test/queue/fixtures/queue-child.js on the current environment (see fixtures/spawn.ts). */
  spawnChild(spec: ChildSpec): QueueChild;
  /** Skip the suite, with this reason (e.g. no broker here and CI is not set). */
  readonly skip?: string | undefined;
  /** Documented limits of a backend, which relax the assertions they concern. */
  readonly limits?: BackendLimits;
}

export interface BackendLimits {
  /** Peeking gives the entries back marked redelivered (AMQP has no peek, only get and requeue). */
  readonly peekMarksRedelivered?: boolean;
  /** inspect() counts only the unsettled deliveries of its own backend, not other processes'. */
  readonly unackedOnlyOwn?: boolean;
}

/** Deliveries of one consumer, in arrival order; `settle` decides what happens to each. */
interface Recorder {
  readonly deliveries: Delivery[];
  readonly bodies: () => string[];
}

function recorder(settle: (delivery: Delivery) => Promise<void> | void): {
  recorder: Recorder;
  handler: (delivery: Delivery) => Promise<void>;
} {
  const deliveries: Delivery[] = [];
  return {
    recorder: { deliveries, bodies: () => deliveries.map((d) => d.body.toString("utf8")) },
    handler: async (delivery) => {
      deliveries.push(delivery);
      await settle(delivery);
    },
  };
}

const ack = (delivery: Delivery): Promise<void> => delivery.ack();
/** Keeps the delivery unsettled until the test settles it. */
const hold = (): Promise<void> => new Promise(() => {});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export function queueConformance(
  name: string,
  makeBackend: () => Promise<QueueBackend>,
  hooks: ConformanceHooks,
): void {
  const limits = hooks.limits ?? {};
  describe(`queue conformance: ${name}`, { skip: hooks.skip ?? false }, () => {
    let backends: QueueBackend[] = [];
    let children: QueueChild[] = [];
    let layout: QueueLayout;
    let queue: string;
    let otherQueue: string;

    const open = async (): Promise<QueueBackend> => {
      const backend = await makeBackend();
      backends.push(backend);
      return backend;
    };
    const spawn = (spec: ChildSpec): QueueChild => {
      const child = hooks.spawnChild(spec);
      children.push(child);
      return child;
    };
    const closeAll = async (): Promise<void> => {
      for (const backend of backends) await backend.close();
      backends = [];
    };
    const consumeAll = async (backend: QueueBackend, count: number, prefetch = 1): Promise<Recorder> => {
      const { recorder: seen, handler } = recorder(ack);
      const consumer = await backend.consume(queue, handler, { prefetch });
      await waitUntil(() => seen.deliveries.length >= count, `${count} deliveries`);
      await consumer.cancel();
      return seen;
    };

    beforeEach(async () => {
      await hooks.beforeEach();
      layout = hooks.layout();
      const [first, second] = layout.tasks;
      assert.ok(first !== undefined, "the layout needs a task queue");
      queue = first;
      otherQueue = second ?? layout.webhook;
    });

    afterEach(async () => {
      for (const child of children) await child.kill();
      children = [];
      await closeAll();
      await hooks.afterEach();
    });

    test("delivers higher priorities first", async () => {
      const backend = await open();
      for (const priority of [5, 0, 9, 3, 7]) await backend.publish(queue, `p${priority}`, { priority });
      await backend.publish(queue, "default");
      const seen = await consumeAll(backend, 6);
      assert.deepEqual(seen.bodies(), ["p9", "p7", "p5", "default", "p3", "p0"]);
      assert.deepEqual(
        seen.deliveries.map((d) => d.priority),
        [9, 7, 5, 5, 3, 0],
      );
    });

    test("keeps publish order within one priority", async () => {
      const backend = await open();
      const expected: string[] = [];
      for (let i = 0; i < 20; i++) await backend.publish(queue, `low${i}`, { priority: 1 });
      for (let i = 0; i < 20; i++) {
        await backend.publish(queue, `high${i}`, { priority: 8 });
        expected.push(`high${i}`);
      }
      for (let i = 0; i < 20; i++) expected.push(`low${i}`);
      const seen = await consumeAll(backend, 40, 4);
      assert.deepEqual(seen.bodies(), expected);
    });

    test("ack removes the entry for good", async () => {
      let backend = await open();
      await backend.publish(queue, "once");
      const seen = await consumeAll(backend, 1);
      assert.deepEqual(seen.bodies(), ["once"]);
      assert.equal(seen.deliveries[0]?.redelivered, false);
      const info = await backend.inspect(queue);
      assert.equal(info.ready + info.unacked, 0);
      await closeAll();
      await hooks.restart();
      backend = await open();
      assert.equal((await backend.inspect(queue)).ready, 0);
    });

    test("nack with requeue delivers the entry again, marked redelivered", async () => {
      const backend = await open();
      await backend.publish(queue, "again");
      const { recorder: seen, handler } = recorder((d) =>
        d.redelivered ? d.ack() : d.nack({ requeue: true }),
      );
      await backend.consume(queue, handler);
      await waitUntil(() => seen.deliveries.length >= 2, "the second delivery");
      assert.deepEqual(seen.bodies(), ["again", "again"]);
      assert.deepEqual(
        seen.deliveries.map((d) => d.redelivered),
        [false, true],
      );
      await waitUntil(async () => (await backend.inspect(queue)).unacked === 0, "the ack");
      assert.equal((await backend.inspect(queue)).ready, 0);
    });

    test("nack without requeue drops the entry", async () => {
      const backend = await open();
      await backend.publish(queue, "drop me");
      const { recorder: seen, handler } = recorder((d) =>
        d.body.toString() === "drop me" ? d.nack({ requeue: false }) : d.ack(),
      );
      await backend.consume(queue, handler);
      await waitUntil(() => seen.deliveries.length >= 1, "the first delivery");
      // Had the dropped entry come back, it would precede this later one.
      await backend.publish(queue, "later");
      await waitUntil(() => seen.deliveries.length >= 2, "the second delivery");
      assert.deepEqual(seen.bodies(), ["drop me", "later"]);
      await waitUntil(async () => (await backend.inspect(queue)).unacked === 0, "the ack");
      assert.equal((await backend.inspect(queue)).ready, 0);
    });

    test("a handler that returns or throws without settling gets the entry again", async () => {
      const backend = await open();
      await backend.publish(queue, "unsettled");
      let calls = 0;
      const { recorder: seen, handler } = recorder(async (d) => {
        calls += 1;
        if (calls === 1) return;
        if (calls === 2) throw new Error("handler failure for the test");
        await d.ack();
      });
      await backend.consume(queue, handler);
      await waitUntil(() => seen.deliveries.length >= 3, "three deliveries");
      assert.deepEqual(
        seen.deliveries.map((d) => d.redelivered),
        [false, true, true],
      );
      await waitUntil(async () => (await backend.inspect(queue)).unacked === 0, "the ack");
      assert.equal((await backend.inspect(queue)).ready, 0);
    });

    test("prefetch bounds the unsettled deliveries of a consumer", async () => {
      const backend = await open();
      for (let i = 0; i < 10; i++) await backend.publish(queue, `e${i}`);
      const held: Delivery[] = [];
      let most = 0;
      const { recorder: seen, handler } = recorder(async (d) => {
        held.push(d);
        most = Math.max(most, held.length);
        await hold();
      });
      await backend.consume(queue, handler, { prefetch: 3 });
      await waitUntil(() => held.length === 3, "three deliveries");
      const info = await backend.inspect(queue);
      assert.deepEqual([info.ready, info.unacked], [7, 3]);
      for (let settled = 0; settled < 10; settled++) {
        const wanted = Math.min(3, 10 - settled);
        await waitUntil(() => held.length === wanted, `${wanted} unsettled deliveries`);
        await held.shift()?.ack();
      }
      assert.equal(most, 3);
      assert.equal(seen.deliveries.length, 10);
    });

    test("inspect peeks in delivery order without consuming", async () => {
      const backend = await open();
      await backend.publish(queue, "a");
      await backend.publish(queue, "b", { priority: 9 });
      await backend.publish(queue, "c");
      for (let round = 0; round < 2; round++) {
        const info = await backend.inspect(queue, 2);
        assert.equal(info.name, queue);
        assert.deepEqual([info.ready, info.unacked], [3, 0]);
        const peeked = round > 0 && limits.peekMarksRedelivered === true;
        assert.deepEqual(
          info.entries.map((e) => [e.body.toString(), e.priority, e.redelivered]),
          [
            ["b", 9, peeked],
            ["a", 5, peeked],
          ],
        );
      }
      assert.deepEqual((await backend.inspect(queue, 0)).entries, []);
      assert.equal((await backend.inspect(otherQueue)).ready, 0);
      const seen = await consumeAll(backend, 3);
      assert.deepEqual(seen.bodies(), ["b", "a", "c"]);
    });

    test("purge removes waiting entries, not leased ones", async () => {
      const backend = await open();
      for (let i = 0; i < 5; i++) await backend.publish(queue, `e${i}`);
      await backend.publish(otherQueue, "elsewhere");
      const { recorder: seen, handler } = recorder(hold);
      const consumer = await backend.consume(queue, handler);
      await waitUntil(() => seen.deliveries.length === 1, "one delivery");
      await consumer.cancel();
      assert.equal(await backend.purge(queue), 4);
      const info = await backend.inspect(queue);
      assert.deepEqual([info.ready, info.unacked], [0, 1]);
      assert.equal((await backend.inspect(otherQueue)).ready, 1, "other queues are untouched");
      await seen.deliveries[0]?.ack();
      assert.equal((await backend.inspect(queue)).unacked, 0);
      assert.equal(await backend.purge(queue), 0);
    });

    test("publishing to an unknown queue fails, naming it and the configured queues", async () => {
      const backend = await open();
      const configured = [layout.webhook, ...layout.tasks, layout.statistics];
      const names = (error: unknown): boolean => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /no-such-queue/);
        for (const known of configured) assert.ok(error.message.includes(known), `mentions ${known}`);
        return true;
      };
      await assert.rejects(backend.publish("no-such-queue", "x"), names);
      await assert.rejects(backend.consume("no-such-queue", ack), names);
      await assert.rejects(backend.publish(queue, "x", { priority: 10 }), RangeError);
    });

    test("cancel stops new deliveries to that consumer", async () => {
      const backend = await open();
      const first = recorder(ack);
      const second = recorder(ack);
      const cancelled = await backend.consume(queue, first.handler);
      await backend.consume(queue, second.handler);
      await cancelled.cancel();
      for (let i = 0; i < 5; i++) await backend.publish(queue, `e${i}`);
      await waitUntil(() => second.recorder.deliveries.length === 5, "five deliveries to the live consumer");
      assert.equal(first.recorder.deliveries.length, 0);
    });

    test("close returns unsettled deliveries to the queue", async () => {
      const holder = await open();
      await holder.publish(queue, "held");
      const { recorder: held, handler } = recorder(hold);
      await holder.consume(queue, handler);
      await waitUntil(() => held.deliveries.length === 1, "the delivery");
      await holder.close();
      const backend = await open();
      const seen = await consumeAll(backend, 1);
      assert.deepEqual(seen.bodies(), ["held"]);
      assert.equal(seen.deliveries[0]?.redelivered, true);
      await assert.rejects(held.deliveries[0]?.ack() ?? Promise.resolve(), /closed/);
    });

    test("entries survive closing and reopening", async () => {
      let backend = await open();
      await backend.publish(queue, "kept-low", { priority: 2 });
      await backend.publish(queue, "kept-high", { priority: 9 });
      await backend.publish(layout.webhook, "kept-webhook");
      await closeAll();
      await hooks.restart();
      backend = await open();
      const info = await backend.inspect(queue);
      assert.deepEqual(
        info.entries.map((e) => e.body.toString()),
        ["kept-high", "kept-low"],
      );
      assert.equal((await backend.inspect(layout.webhook)).ready, 1);
      const seen = await consumeAll(backend, 2);
      assert.deepEqual(seen.bodies(), ["kept-high", "kept-low"]);
    });

    test("entries survive a publisher SIGKILLed right after publish resolved", async () => {
      const child = spawn({ role: "publish", queue, prefix: "crash", count: 50, killAfter: true });
      const exit = await child.exited;
      assert.equal(exit.signal, "SIGKILL");
      const backend = await open();
      const info = await backend.inspect(queue, 100);
      assert.equal(info.ready, 50);
      assert.deepEqual(
        info.entries.map((e) => e.body.toString()),
        Array.from({ length: 50 }, (_, i) => `crash${i}`),
      );
    });

    test("deliveries of a consumer SIGKILLed mid-work come again, marked redelivered", async (t) => {
      const backend = await open();
      await backend.publish(queue, "first");
      await backend.publish(queue, "second");
      const child = spawn({ role: "consume", queue, prefetch: 2, settle: "hold" });
      await child.waitFor("two deliveries in the child", (c) => c.of("delivery").length === 2);
      assert.deepEqual(
        child.of("delivery").map((m) => [m.body, m.redelivered]),
        [
          ["first", false],
          ["second", false],
        ],
      );
      const { recorder: seen, handler } = recorder(ack);
      await backend.consume(queue, handler, { prefetch: 2 });
      const held = await backend.inspect(queue);
      assert.deepEqual([held.ready, held.unacked], [0, limits.unackedOnlyOwn ? 0 : 2]);
      await child.kill("SIGKILL");
      const killedAt = Date.now();
      await waitUntil(() => seen.deliveries.length === 2, "the redeliveries");
      assert.deepEqual(seen.bodies(), ["first", "second"]);
      assert.ok(seen.deliveries.every((d) => d.redelivered));
      t.diagnostic(`redelivered ${Date.now() - killedAt} ms after SIGKILL`);
    });

    test("many consumers in several processes get every entry exactly once", async () => {
      const backend = await open();
      const consumers = Array.from({ length: 4 }, () =>
        spawn({ role: "consume", queue, prefetch: 5, settle: "ack" }),
      );
      for (const child of consumers)
        await child.waitFor("the consumer to start", (c) => c.of("ready").length === 1);
      const expected = Array.from({ length: 200 }, (_, i) => `entry${i}`);
      for (const body of expected) await backend.publish(queue, body, { priority: body.length % 3 });
      const acked = (): string[] => consumers.flatMap((c) => c.of("acked").map((m) => m.body));
      await waitUntil(() => acked().length >= 200, "200 acks");
      assert.deepEqual([...acked()].sort(), [...expected].sort());
      const info = await backend.inspect(queue);
      assert.deepEqual([info.ready, info.unacked], [0, 0]);
    });

    test("a consumer in another process starts within milliseconds of a publish", async (t) => {
      const backend = await open();
      const child = spawn({ role: "consume", queue, prefetch: 1, settle: "ack" });
      await child.waitFor("the consumer to start", (c) => c.of("ready").length === 1);
      const latencies: number[] = [];
      for (let i = 0; i < 20; i++) {
        const publishedAt = preciseNow();
        await backend.publish(queue, `ping${i}`);
        await child.waitFor(`ack of ping${i}`, (c) => c.of("acked").length === i + 1);
        const started = child.of("delivery")[i];
        assert.equal(started?.body, `ping${i}`);
        latencies.push((started?.startedAt ?? Number.POSITIVE_INFINITY) - publishedAt);
      }
      t.diagnostic(`publish -> handler start in another process: median ${median(latencies).toFixed(2)} ms`);
      // Far below any polling interval: the consumer is woken, not polling.
      assert.ok(median(latencies) < 100, `median latency ${median(latencies)} ms`);
    });
  });
}
