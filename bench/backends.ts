/** The queue backends rows are measured on. An AMQP entry goes here next to SQLite. */
import { join } from "node:path";
import type { BenchBackend } from "./types.js";

export const sqliteBackend: BenchBackend = {
  name: "sqlite",
  unavailable: async () => undefined,
  queueConfig: (dir) => ({ driver: "sqlite", sqlite: { path: join(dir, "queue.sqlite") } }),
};

export const backends: readonly BenchBackend[] = [sqliteBackend];
