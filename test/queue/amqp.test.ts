import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { type Channel, type ChannelModel, connect } from "amqplib";
import { openAmqpQueue } from "../../src/queue/amqp/backend.js";
import {
  openQueue,
  QueueArgumentsError,
  type QueueBackend,
  type QueueLayout,
} from "../../src/queue/index.js";
import { queueConformance } from "./conformance.js";
import {
  brokerUnavailable,
  deleteQueues,
  layoutQueues,
  SHARED_BROKER_URL,
  skipUnlessCi,
  uniqueLayout,
} from "./fixtures/broker.js";
import { type RabbitNode, rabbitNodeUnavailable, startRabbitNode } from "./fixtures/rabbit-node.js";
import { forkQueueChild } from "./fixtures/spawn.js";
import { waitUntil } from "./fixtures/wait.js";

const url = SHARED_BROKER_URL;
const skip = skipUnlessCi(await brokerUnavailable(url));

let conformanceLayout: QueueLayout | undefined;
const currentLayout = (): QueueLayout => {
  assert.ok(conformanceLayout, "no queue names outside a test");
  return conformanceLayout;
};

queueConformance("amqp", () => openQueue({ driver: "amqp", url, layout: currentLayout() }), {
  beforeEach: async () => {
    conformanceLayout = uniqueLayout();
  },
  afterEach: async () => {
    if (conformanceLayout) await deleteQueues(url, layoutQueues(conformanceLayout));
    conformanceLayout = undefined;
  },
  layout: currentLayout,
  // Closing every backend drops every connection; restarting the shared broker would disturb
  // others, so the broker-restart test below runs on a private node.
  restart: async () => {},
  spawnChild: (spec) => forkQueueChild({ driver: "amqp", url, layout: currentLayout() }, spec),
  skip,
  limits: { peekMarksRedelivered: true, unackedOnlyOwn: true },
});

/** A raw amqplib connection and channel, as another client (e.g. Cockpit's bots) would use. */
async function rawChannel(brokerUrl: string): Promise<{ connection: ChannelModel; channel: Channel }> {
  const connection = await connect(brokerUrl);
  const channel = await connection.createChannel();
  // Failed declarations reject; the error event only repeats them.
  channel.on("error", () => {});
  return { connection, channel };
}

describe("amqp queue backend", { skip }, () => {
  let layout: QueueLayout;
  let backends: QueueBackend[] = [];
  let raw: { connection: ChannelModel; channel: Channel } | undefined;

  const open = async (): Promise<QueueBackend> => {
    const backend = await openAmqpQueue({ url, layout });
    backends.push(backend);
    return backend;
  };
  const channel = async (): Promise<Channel> => {
    raw ??= await rawChannel(url);
    return raw.channel;
  };

  beforeEach(() => {
    layout = uniqueLayout();
  });
  afterEach(async () => {
    for (const backend of backends) await backend.close();
    backends = [];
    await raw?.connection.close().catch(() => {});
    raw = undefined;
    await deleteQueues(url, layoutQueues(layout));
  });

  test("declares its queues exactly as Cockpit's bots do", async () => {
    await open();
    const [task] = layout.tasks;
    assert.ok(task);
    const ch = await channel();
    // Declaring with the same arguments succeeds only if they are identical.
    await ch.assertQueue(layout.webhook, { durable: true });
    await ch.assertQueue(task, { durable: true, arguments: { "x-max-priority": 9 } });
    await ch.assertQueue(layout.statistics, {
      durable: true,
      arguments: { "x-max-priority": 9, "x-single-active-consumer": true },
    });
    await assert.rejects(
      ch.assertQueue(layout.webhook, { durable: true, arguments: { "x-max-priority": 9 } }),
      /PRECONDITION_FAILED/,
      "the webhook queue has no arguments",
    );
  });

  test("a queue that exists with other arguments gives an error saying what differs and how to fix it", async () => {
    const [task] = layout.tasks;
    assert.ok(task);
    await (await channel()).assertQueue(task, { durable: true });
    await assert.rejects(open(), (error: unknown) => {
      assert.ok(error instanceof QueueArgumentsError);
      assert.equal(error.queue, task);
      assert.match(error.message, new RegExp(`queue "${task}"`));
      assert.match(error.message, /x-max-priority/);
      assert.match(error.message, /delete_queue/);
      assert.match(error.message, /queue\.names/);
      return true;
    });
  });

  test("publishes the body as given, persistent, with its priority; reads entries bots publish", async () => {
    const backend = await open();
    const [task] = layout.tasks;
    assert.ok(task);
    const body = JSON.stringify({ job: { repo: "acme/widget", sha: "0".repeat(40), context: "unit" } });
    await backend.publish(task, body, { priority: 7 });
    const ch = await channel();
    const got = await ch.get(task, { noAck: true });
    assert.ok(got !== false);
    assert.equal(got.content.toString("utf8"), body);
    assert.equal(got.properties.deliveryMode, 2);
    assert.equal(got.properties.priority, 7);

    // As bots' publish-queue does: a JSON body sent to the queue through the default exchange.
    const botsEntry = Buffer.from('{"command": "shell"}');
    ch.sendToQueue(task, botsEntry, { priority: 5, deliveryMode: 2 });
    const seen: Buffer[] = [];
    await backend.consume(task, async (delivery) => {
      seen.push(delivery.body);
      await delivery.ack();
    });
    await waitUntil(() => seen.length === 1, "the bots entry");
    assert.deepEqual(seen[0], botsEntry);
  });

  test("a wrong URL fails at open and names the broker without its password", async () => {
    await assert.rejects(
      openAmqpQueue({ url: "amqp://user:hunter2@127.0.0.1:1", layout }),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /cannot connect to RabbitMQ at amqp:\/\/user:\*\*\*@127\.0\.0\.1:1/);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      },
    );
  });
});

describe("amqp backend across broker restarts (private RabbitMQ node)", {
  skip: skipUnlessCi(rabbitNodeUnavailable()),
}, () => {
  let node: RabbitNode;
  let backends: QueueBackend[] = [];
  const layout = uniqueLayout();
  const [task] = layout.tasks;

  const open = async (outageTimeoutMs?: number): Promise<QueueBackend> => {
    const backend = await openAmqpQueue({
      url: node.url,
      layout,
      backoff: { initialMs: 50, maxMs: 1000 },
      ...(outageTimeoutMs !== undefined ? { outageTimeoutMs } : {}),
    });
    backends.push(backend);
    return backend;
  };

  before(async () => {
    node = await startRabbitNode();
  });
  after(async () => {
    await node?.destroy();
  });
  afterEach(async () => {
    for (const backend of backends) await backend.close();
    backends = [];
    if (node.running) await deleteQueues(node.url, layoutQueues(layout));
  });

  test("entries published and confirmed before a broker restart are all delivered after it", async () => {
    assert.ok(task);
    const publisher = await open();
    const expected = Array.from({ length: 300 }, (_, i) => `durable${i}`);
    await Promise.all(expected.map((body, i) => publisher.publish(task, body, { priority: i % 10 })));
    await publisher.close();

    await node.restart();

    const backend = await open();
    assert.equal((await backend.inspect(task, 0)).ready, expected.length);
    const seen: string[] = [];
    await backend.consume(
      task,
      async (delivery) => {
        seen.push(delivery.body.toString());
        await delivery.ack();
      },
      { prefetch: 50 },
    );
    await waitUntil(() => seen.length >= expected.length, `${expected.length} deliveries`, 30_000);
    assert.deepEqual([...seen].sort(), [...expected].sort());
  });

  test("a backend reconnects: its consumers subscribe again, publishes wait out the outage", async () => {
    assert.ok(task);
    // Generous: the node takes seconds to start on a loaded machine.
    const backend = await open(120_000);
    const impatient = await open(300);
    const seen: string[] = [];
    await backend.consume(task, async (delivery) => {
      seen.push(delivery.body.toString());
      await delivery.ack();
    });
    await backend.publish(task, "before");
    await waitUntil(() => seen.length === 1, "the first delivery");

    await node.stop();
    const waiting = backend.publish(task, "during");
    await assert.rejects(
      impatient.publish(task, "gives up"),
      /RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+/,
    );
    await node.start();
    await waiting;
    await backend.publish(task, "after");
    await waitUntil(() => seen.length === 3, "deliveries after the restart", 30_000);
    assert.deepEqual(seen, ["before", "during", "after"]);
  });
});
