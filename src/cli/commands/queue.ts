/**
 * `hangar queue inspect|publish|purge`: the operator's view of the queues, on
 * whichever backend hangar.yaml configures.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { type LoadedConfig, loadConfigFile } from "../../config/index.js";
import { openConfiguredQueue } from "../../queue/from-config.js";
import { summarizeEntry } from "../../queue/summary.js";
import { DEFAULT_PRIORITY, MAX_PRIORITY, MIN_PRIORITY, type QueueBackend } from "../../queue/types.js";
import { UsageError } from "../errors.js";
import { commandLogger } from "../lifecycle.js";
import { confirm, hasTerminal } from "../queue-tools/confirm.js";
import { configuredQueues, queueKind } from "../queue-tools/layout.js";
import { BadEntryError, validateEntry } from "../queue-tools/validate.js";

interface CommonFlags {
  readonly config: string;
  readonly logLevel?: string;
}

interface InspectFlags extends CommonFlags {
  readonly queue: string[];
  readonly limit: string;
  readonly json?: boolean;
}

interface PublishFlags extends CommonFlags {
  readonly queue: string;
  readonly priority?: string;
}

interface PurgeFlags extends CommonFlags {
  readonly queue: string;
  readonly yes?: boolean;
}

const DEFAULT_CONFIG = "hangar.yaml";
const DEFAULT_LIMIT = "10";

async function withQueue<T>(
  loaded: LoadedConfig,
  flags: CommonFlags,
  use: (queue: QueueBackend) => Promise<T>,
): Promise<T> {
  const logger = commandLogger(loaded.config, flags.logLevel ?? "warn");
  const queue = await openConfiguredQueue(loaded, process.env, logger);
  try {
    return await use(queue);
  } finally {
    await queue.close();
  }
}

function wholeNumber(value: string, option: string, min: number, max: number): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw new UsageError(`${option} expects a whole number from ${min} to ${max}, got "${value}"`);
  }
  return number;
}

/** AMQP shows a client only its own unacked deliveries, so a one-shot tool sees none. */
const UNACKED_UNKNOWN_NOTE =
  "(? unacked: an AMQP client cannot see other clients' deliveries; ask the broker, e.g. " +
  "rabbitmqctl list_queues name messages_ready messages_unacknowledged)";

async function inspect(flags: InspectFlags): Promise<void> {
  const limit = wholeNumber(flags.limit, "--limit", 0, 10_000);
  const loaded = loadConfigFile(flags.config);
  const queues = configuredQueues(loaded.config);
  const names = flags.queue.length > 0 ? flags.queue : [...queues.keys()];
  const kinds = names.map((name) => queueKind(queues, name));
  await withQueue(loaded, flags, async (queue) => {
    const unackedKnown = queue.driver !== "amqp";
    const report = [];
    for (const [index, name] of names.entries()) {
      const info = await queue.inspect(name, limit);
      const kind = kinds[index];
      report.push({
        name,
        ready: info.ready,
        unacked: unackedKnown ? info.unacked : null,
        entries: info.entries.map((entry) => ({
          priority: entry.priority,
          redelivered: entry.redelivered,
          summary: summarizeEntry(kind, entry.body),
        })),
      });
    }
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ driver: queue.driver, queues: report }, null, 2)}\n`);
      return;
    }
    const lines: string[] = [];
    for (const info of report) {
      lines.push(`${info.name}: ${info.ready} ready, ${info.unacked ?? "?"} unacked`);
      for (const entry of info.entries) {
        lines.push(`  [${entry.priority}]${entry.redelivered ? " (redelivered)" : ""} ${entry.summary}`);
      }
      const hidden = info.ready - info.entries.length;
      if (hidden > 0 && limit > 0) lines.push(`  … and ${hidden} more`);
    }
    if (!unackedKnown) lines.push(UNACKED_UNKNOWN_NOTE);
    process.stdout.write(`${lines.join("\n")}\n`);
  });
}

async function readInput(source: string): Promise<Buffer> {
  if (source !== "-") {
    try {
      return await readFile(source);
    } catch (error) {
      throw new UsageError(`cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function publish(source: string, flags: PublishFlags): Promise<void> {
  const priority =
    flags.priority === undefined
      ? DEFAULT_PRIORITY
      : wholeNumber(flags.priority, "--priority", MIN_PRIORITY, MAX_PRIORITY);
  const loaded = loadConfigFile(flags.config);
  const queues = configuredQueues(loaded.config);
  const kind = queueKind(queues, flags.queue);
  const body = await readInput(source);
  try {
    validateEntry(kind, body, flags.queue);
  } catch (error) {
    if (error instanceof BadEntryError) throw new UsageError(`${error.message}; nothing was published`);
    throw error;
  }
  await withQueue(loaded, flags, (queue) => queue.publish(flags.queue, body, { priority }));
  process.stdout.write(`published to ${flags.queue} (priority ${priority}): ${summarizeEntry(kind, body)}\n`);
}

async function purge(flags: PurgeFlags): Promise<void> {
  const loaded = loadConfigFile(flags.config);
  queueKind(configuredQueues(loaded.config), flags.queue);
  if (!flags.yes && !hasTerminal()) {
    throw new UsageError(`refusing to purge ${flags.queue} without a terminal to confirm on; pass --yes`);
  }
  await withQueue(loaded, flags, async (queue) => {
    if (!flags.yes) {
      const { ready } = await queue.inspect(flags.queue, 0);
      if (ready === 0) {
        process.stdout.write(`${flags.queue} has no waiting entries\n`);
        return;
      }
      if (!(await confirm(`Remove all ${ready} waiting entries of ${flags.queue}?`))) {
        process.stdout.write("nothing purged\n");
        return;
      }
    }
    const removed = await queue.purge(flags.queue);
    process.stdout.write(`purged ${removed} entr${removed === 1 ? "y" : "ies"} from ${flags.queue}\n`);
  });
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function common(command: Command): Command {
  return command
    .option("-c, --config <file>", "hangar.yaml to use", DEFAULT_CONFIG)
    .option("--log-level <level>", "log level of the queue backend (default warn)");
}

export function register(program: Command): void {
  const queue = program
    .command("queue")
    .description("look into, feed and empty the queues (SQLite or RabbitMQ)");
  common(queue.command("inspect"))
    .description("show each queue's ready and unacked counts and its next entries, without consuming them")
    .option(
      "-q, --queue <name>",
      "only this queue (repeatable); all configured queues by default",
      collect,
      [],
    )
    .option("-n, --limit <n>", "entries to show per queue", DEFAULT_LIMIT)
    .option("--json", "print JSON instead of text")
    .action((flags: InspectFlags) => inspect(flags));
  common(queue.command("publish"))
    .description("validate an entry against the queue's wire format, then publish it")
    .argument("[file]", "the entry as JSON; - or absent reads stdin", "-")
    .requiredOption("-q, --queue <name>", "the queue to publish to")
    .option("-p, --priority <n>", `0..9, higher first (default ${DEFAULT_PRIORITY})`)
    .action((file: string, flags: PublishFlags) => publish(file, flags));
  common(queue.command("purge"))
    .description("remove every waiting entry of a queue (entries being worked on stay)")
    .requiredOption("-q, --queue <name>", "the queue to empty")
    .option("-y, --yes", "do not ask for confirmation")
    .action((flags: PurgeFlags) => purge(flags));
}
