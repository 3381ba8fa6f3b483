/**
 * Opening a queue backend by driver name. A new driver adds its options to
 * QueueOptionsByDriver and its factory to `factories`; callers don't change.
 */
import { type AmqpQueueOptions, openAmqpQueue } from "./amqp/backend.js";
import { openSqliteQueue, type SqliteQueueOptions } from "./sqlite/backend.js";
import type { QueueBackend } from "./types.js";

export { QueueArgumentsError, queueArguments } from "./amqp/arguments.js";
export type { AmqpQueueOptions, AmqpTlsOptions } from "./amqp/backend.js";
export { UnknownQueueError } from "./layout.js";
export type { SqliteQueueOptions } from "./sqlite/backend.js";
export * from "./types.js";

export interface QueueOptionsByDriver {
  sqlite: SqliteQueueOptions;
  amqp: AmqpQueueOptions;
}

export type QueueDriver = keyof QueueOptionsByDriver;

/** Options of one driver, tagged with its name: `{ driver: "sqlite", path, layout, logger? }`. */
export type OpenQueueOptions = {
  [D in QueueDriver]: { readonly driver: D } & QueueOptionsByDriver[D];
}[QueueDriver];

type QueueFactory<D extends QueueDriver> = (options: QueueOptionsByDriver[D]) => Promise<QueueBackend>;

const factories: { readonly [D in QueueDriver]: QueueFactory<D> } = {
  sqlite: openSqliteQueue,
  amqp: openAmqpQueue,
};

export function openQueue(options: OpenQueueOptions): Promise<QueueBackend> {
  return openWith(options.driver, options);
}

function openWith<D extends QueueDriver>(driver: D, options: QueueOptionsByDriver[D]): Promise<QueueBackend> {
  return factories[driver](options);
}
