/** The queue backends rows are measured on: SQLite, and the RabbitMQ at HANGAR_BENCH_AMQP_URL. */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { connect } from "amqplib";
import type { BenchBackend } from "./types.js";

export const sqliteBackend: BenchBackend = {
  name: "sqlite",
  unavailable: async () => undefined,
  queueConfig: (dir) => ({ driver: "sqlite", sqlite: { path: join(dir, "queue.sqlite") } }),
};

const AMQP_URL = process.env.HANGAR_BENCH_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
/** Queues each row declared on the shared broker, by the row's dir, to delete afterwards. */
const amqpQueues = new Map<string, string[]>();

export const amqpBackend: BenchBackend = {
  name: "amqp",
  async unavailable() {
    try {
      await (await connect(AMQP_URL, { timeout: 5000 })).close();
      return undefined;
    } catch (error) {
      return `no RabbitMQ at HANGAR_BENCH_AMQP_URL or 127.0.0.1:5672 (${(error as Error).message})`;
    }
  },
  queueConfig(dir) {
    // Queues of their own, so a row never sees another row's (or anyone's) entries.
    const prefix = `bench-${randomUUID()}`;
    const names = {
      webhook: `${prefix}-webhook`,
      public: `${prefix}-public`,
      internal: `${prefix}-internal`,
      statistics: `${prefix}-statistics`,
    };
    amqpQueues.set(dir, Object.values(names));
    return { driver: "amqp", amqp: { url: AMQP_URL }, names };
  },
  async cleanup(dir) {
    const queues = amqpQueues.get(dir) ?? [];
    amqpQueues.delete(dir);
    const connection = await connect(AMQP_URL);
    try {
      const channel = await connection.createChannel();
      for (const queue of queues) await channel.deleteQueue(queue);
    } finally {
      await connection.close();
    }
  },
};

export const backends: readonly BenchBackend[] = [sqliteBackend, amqpBackend];
