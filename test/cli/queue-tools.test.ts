/**
 * `hangar queue inspect|publish|purge` as a user runs them: the CLI as a child
 * process against a config in a temp dir, on SQLite and on the RabbitMQ at
 * 127.0.0.1:5672 (queue names unique per run, deleted afterwards).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { type ConfigInput, parseConfig, queueLayout } from "../../src/config/index.js";
import { openConfiguredQueue } from "../../src/queue/from-config.js";
import type { Delivery, QueueBackend } from "../../src/queue/types.js";
import { silentLogger } from "../../src/util/logger.js";
import { waitUntil } from "../queue/fixtures/wait.js";
import { HANGAR, hangar } from "./fixtures/run.js";

const RABBIT_URL = process.env.HANGAR_TEST_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const SHA = "0123456789abcdef0123456789abcdef01234567";

const webhookEntry = {
  event: "pull_request",
  request: {
    action: "opened",
    number: 3,
    pull_request: { number: 3 },
    repository: { full_name: "acme/widget" },
  },
};
const jobEntry = (context: string, human?: string) => ({
  job: { repo: "acme/widget", sha: SHA, pull: 3, context, secrets: ["github-token"] },
  ...(human === undefined ? {} : { human }),
});

interface InspectJson {
  readonly driver: string;
  readonly queues: {
    name: string;
    ready: number;
    unacked: number | null;
    entries: { priority: number; redelivered: boolean; summary: string }[];
  }[];
}

async function rabbitAvailable(): Promise<string | undefined> {
  try {
    const { connect } = await import("amqplib");
    const connection = await connect(RABBIT_URL, { timeout: 3000 });
    await connection.close();
    return undefined;
  } catch (error) {
    return `no RabbitMQ at ${RABBIT_URL}: ${String(error)}`;
  }
}

/** `hangar queue purge` on a real terminal (util-linux `script`), answering the prompt once it shows. */
function purgeOnTerminal(
  args: readonly string[],
  answer: string,
): Promise<{ code: number | null; output: string }> {
  const quoted = [process.execPath, HANGAR, ...args]
    .map((arg) => `'${arg.replaceAll("'", "'\\''")}'`)
    .join(" ");
  const child = spawn("script", ["-qec", quoted, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  let answered = false;
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
    if (!answered && output.includes("[y/N]")) {
      answered = true;
      child.stdin.write(`${answer}\n`);
    }
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

interface SuiteHooks {
  /** Why this backend cannot be tested here, or undefined. */
  readonly unavailable: () => Promise<string | undefined>;
  readonly cleanup?: () => Promise<void>;
}

function toolsSuite(name: string, queueConfig: () => ConfigInput["queue"], hooks: SuiteHooks): void {
  describe(`hangar queue on ${name}`, () => {
    let dir: string;
    let configFile: string;
    let names: { webhook: string; public: string; internal: string; events: string; statistics: string };
    const opened: QueueBackend[] = [];
    let missing: string | undefined = "not probed";
    const skip = () => missing;
    /** What inspect reports as unacked: a count on SQLite, unknown (null) on AMQP. */
    const unacked = (count: number) => (queueConfig()?.driver === "amqp" ? null : count);

    const cli = (args: string[], input?: string) =>
      hangar(["queue", ...args, "--config", configFile], input === undefined ? {} : { input });
    const inspectJson = async (...args: string[]): Promise<InspectJson> => {
      const result = await cli(["inspect", "--json", ...args]);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as InspectJson;
    };
    const counts = async (queue: string) => {
      const info = (await inspectJson("--queue", queue, "--limit", "0")).queues[0];
      return { ready: info?.ready, unacked: info?.unacked };
    };
    const openBackend = async () => {
      const config: ConfigInput = { queue: queueConfig() };
      const backend = await openConfiguredQueue(
        parseConfig(config, "test", dir),
        process.env,
        silentLogger(),
      );
      opened.push(backend);
      return backend;
    };

    before(async () => {
      missing = await hooks.unavailable();
      if (missing !== undefined && process.env.CI === "true") throw new Error(`CI=true and ${missing}`);
      if (missing !== undefined) return;
      dir = mkdtempSync(join(tmpdir(), "hangar-queue-tools-"));
      configFile = join(dir, "hangar.yaml");
      const config: ConfigInput = { queue: queueConfig(), log: { level: "warn" } };
      writeFileSync(configFile, stringify(config));
      names = queueLayoutNames(config);
    });
    after(async () => {
      for (const backend of opened) await backend.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
      if (missing === undefined) await hooks.cleanup?.();
    });

    test("publish validates and queues a webhook envelope; inspect shows it without consuming it", async (t) => {
      if (skip()) return t.skip(skip());
      const file = join(dir, "event.json");
      writeFileSync(file, JSON.stringify(webhookEntry));
      const published = await cli(["publish", "--queue", names.webhook, file]);
      assert.equal(published.code, 0, published.stderr);
      assert.match(published.stdout, new RegExp(`published to ${names.webhook} \\(priority 5\\)`));
      for (let round = 0; round < 2; round++) {
        const text = await cli(["inspect", "--queue", names.webhook]);
        assert.equal(text.code, 0, text.stderr);
        // Peeking on AMQP is a get and a requeue: the second look sees the entry redelivered.
        assert.match(
          text.stdout,
          new RegExp(
            `^${names.webhook}: 1 ready, ${unacked(0) ?? "\\?"} unacked\n {2}\\[5\\]( \\(redelivered\\))? pull_request opened acme/widget#3\n`,
          ),
        );
      }
      const backend = await openBackend();
      const bodies: string[] = [];
      const consumer = await backend.consume(names.webhook, async (delivery) => {
        await delivery.ack();
        bodies.push(delivery.body.toString("utf8"));
      });
      await waitUntil(() => bodies.length === 1, "the published entry to arrive", 30_000);
      await consumer.cancel();
      assert.deepEqual(JSON.parse(bodies[0] ?? ""), webhookEntry, "published as given");
      assert.deepEqual(await counts(names.webhook), { ready: 0, unacked: unacked(0) });
    });

    test("task entries from stdin with priorities; inspect lists them in delivery order with human lines or summaries", async (t) => {
      if (skip()) return t.skip(skip());
      const low = await cli(["publish", "--queue", names.public], JSON.stringify(jobEntry("debian/unit")));
      assert.equal(low.code, 0, low.stderr);
      const high = await cli(
        ["publish", "--queue", names.public, "--priority", "8", "-"],
        JSON.stringify(jobEntry("fedora/integration", "fedora/integration for acme/widget pull 3")),
      );
      assert.equal(high.code, 0, high.stderr);
      const command = await cli(
        ["publish", "--queue", names.public, "-p", "0"],
        JSON.stringify({ command: "shell" }),
      );
      assert.equal(command.code, 0, command.stderr);
      const info = await inspectJson("--queue", names.public);
      assert.equal(info.queues.length, 1);
      assert.deepEqual(
        info.queues[0]?.entries.map((e) => [e.priority, e.summary]),
        [
          [8, "fedora/integration for acme/widget pull 3"],
          [5, `debian/unit acme/widget@${SHA.slice(0, 12)} #3`],
          [0, "command: shell"],
        ],
      );
      const limited = await cli(["inspect", "--queue", names.public, "--limit", "1"]);
      assert.match(
        limited.stdout,
        /3 ready, [0?] unacked\n {2}\[8\]( \(redelivered\))? fedora\/integration for acme\/widget pull 3\n {2}… and 2 more\n/,
      );
    });

    test("an entry held by a consumer counts as unacked, and inspect shows every configured queue", async (t) => {
      if (skip()) return t.skip(skip());
      const backend = await openBackend();
      const held: Delivery[] = [];
      const consumer = await backend.consume(names.public, async (delivery) => {
        held.push(delivery);
        await new Promise(() => {});
      });
      await waitUntil(() => held.length === 1, "a delivery to the holding consumer", 30_000);
      await consumer.cancel();
      const all = await inspectJson();
      assert.deepEqual(
        all.queues.map((q) => q.name),
        [names.webhook, names.public, names.internal, names.events, names.statistics],
      );
      assert.deepEqual(all.queues.map((q) => [q.ready, q.unacked])[1], [2, unacked(1)]);
      await held[0]?.nack();
      await waitUntil(
        async () => (await counts(names.public)).ready === 3,
        "the entry back in the queue",
        30_000,
      );
    });

    test("a bad entry is refused with the field named, and nothing is published", async (t) => {
      if (skip()) return t.skip(skip());
      const before = await counts(names.public);
      const badSha = await cli(
        ["publish", "--queue", names.public],
        JSON.stringify({ job: { ...jobEntry("x").job, sha: "nope" } }),
      );
      assert.equal(badSha.code, 2);
      assert.match(
        badSha.stderr,
        /invalid at job\.sha: expected a 40-digit hex commit sha; nothing was published/,
      );
      const noContext = await cli(
        ["publish", "--queue", names.public],
        JSON.stringify({ job: { repo: "acme/widget", sha: SHA } }),
      );
      assert.match(noContext.stderr, /invalid at job\.context/);
      const envelope = await cli(["publish", "--queue", names.webhook], JSON.stringify({ event: "push" }));
      assert.equal(envelope.code, 2);
      assert.match(envelope.stderr, /invalid at request/);
      const notJson = await cli(["publish", "--queue", names.internal], "{job:");
      assert.match(notJson.stderr, /is not JSON/);
      const unknown = await cli(["publish", "--queue", "nosuch"], JSON.stringify(jobEntry("x")));
      assert.equal(unknown.code, 2);
      assert.match(
        unknown.stderr,
        new RegExp(`unknown queue "nosuch"; the configured queues are: ${names.webhook}, ${names.public}`),
      );
      const priority = await cli(
        ["publish", "--queue", names.public, "--priority", "10"],
        JSON.stringify(jobEntry("x")),
      );
      assert.match(priority.stderr, /--priority expects a whole number from 0 to 9/);
      assert.deepEqual(await counts(names.public), before);
      assert.deepEqual(await counts(names.webhook), { ready: 0, unacked: unacked(0) });
      assert.deepEqual(await counts(names.internal), { ready: 0, unacked: unacked(0) });
    });

    test("purge without a terminal and without --yes refuses and removes nothing", async (t) => {
      if (skip()) return t.skip(skip());
      const refused = await cli(["purge", "--queue", names.public]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /refusing to purge .* without a terminal to confirm on; pass --yes/);
      assert.equal((await counts(names.public)).ready, 3);
    });

    test("purge on a terminal asks; no keeps the entries, yes removes them", async (t) => {
      if (skip()) return t.skip(skip());
      const args = ["queue", "purge", "--queue", names.public, "--config", configFile];
      const declined = await purgeOnTerminal(args, "n");
      assert.equal(declined.code, 0, declined.output);
      assert.match(
        declined.output,
        new RegExp(`Remove all 3 waiting entries of ${names.public}\\? \\[y/N\\]`),
      );
      assert.match(declined.output, /nothing purged/);
      assert.equal((await counts(names.public)).ready, 3);
      const accepted = await purgeOnTerminal(args, "y");
      assert.equal(accepted.code, 0, accepted.output);
      assert.match(accepted.output, new RegExp(`purged 3 entries from ${names.public}`));
      assert.equal((await counts(names.public)).ready, 0);
    });

    test("purge --yes empties a queue without asking", async (t) => {
      if (skip()) return t.skip(skip());
      for (const context of ["a", "b"]) {
        const published = await cli(
          ["publish", "--queue", names.internal],
          JSON.stringify(jobEntry(context)),
        );
        assert.equal(published.code, 0, published.stderr);
      }
      const purged = await cli(["purge", "--queue", names.internal, "--yes"]);
      assert.equal(purged.code, 0, purged.stderr);
      assert.equal(purged.stdout, `purged 2 entries from ${names.internal}\n`);
      assert.deepEqual(await counts(names.internal), { ready: 0, unacked: unacked(0) });
    });
  });
}

function queueLayoutNames(config: ConfigInput) {
  const layout = queueLayout(parseConfig(config, "test", "/").config);
  const [publicQueue = "", internal = ""] = layout.tasks;
  const events = layout.tasks.at(-1) ?? "";
  return { webhook: layout.webhook, public: publicQueue, internal, events, statistics: layout.statistics };
}

toolsSuite("sqlite", () => ({ driver: "sqlite", sqlite: { path: "queue.sqlite" } }), {
  unavailable: async () => undefined,
});

const suffix = randomBytes(4).toString("hex");
const rabbitNames = {
  webhook: `hangar-tools-${suffix}-webhook`,
  public: `hangar-tools-${suffix}-public`,
  internal: `hangar-tools-${suffix}-internal`,
  statistics: `hangar-tools-${suffix}-statistics`,
  events: `hangar-tools-${suffix}-events`,
};
toolsSuite("rabbitmq", () => ({ driver: "amqp", amqp: { url: RABBIT_URL }, names: rabbitNames }), {
  unavailable: rabbitAvailable,
  cleanup: async () => {
    const { connect } = await import("amqplib");
    const connection = await connect(RABBIT_URL);
    const channel = await connection.createChannel();
    for (const queue of Object.values(rabbitNames)) await channel.deleteQueue(queue);
    await connection.close();
  },
});
