/**
 * The webhook in a process of its own, for the abuse section: its RSS is
 * measured from outside. Started with fork(): argv DIR SECRET WEBHOOK_JSON
 * (more `webhook:` settings). Sends {url} once listening; answers "series"
 * with the number of hangar_webhook_* series it exports; "stop" closes it.
 */
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { parseConfig, queueLayout } from "../../src/config/index.js";
import { metricsText } from "../../src/metrics/index.js";
import { openQueue } from "../../src/queue/index.js";
import { createLogger } from "../../src/util/logger.js";
import { startWebhookServer } from "../../src/webhook/index.js";

const [dir, secret, extra] = process.argv.slice(2);
if (dir === undefined || secret === undefined || process.send === undefined) {
  throw new Error("usage: fork(webhook-process.js, [DIR, SECRET, WEBHOOK_JSON])");
}
const send = process.send.bind(process);
const { config } = parseConfig(
  {
    webhook: { listen: "127.0.0.1:0", secret, ...(JSON.parse(extra ?? "{}") as object) },
    queue: { sqlite: { path: join(dir, "queue.sqlite") } },
  },
  "abuse",
  dir,
);
const queue = await openQueue({
  driver: "sqlite",
  path: config.queue.sqlite.path,
  layout: queueLayout(config),
});
const logger = createLogger({ level: "info", destination: createWriteStream(join(dir, "webhook.log")) });
const server = await startWebhookServer({ config, secret, queue, logger, spoolDir: join(dir, "spool") });

async function seriesCount(): Promise<number> {
  const { body } = await metricsText();
  return body.split("\n").filter((line) => line.startsWith("hangar_webhook_")).length;
}

process.on("message", (message: string) => {
  if (message === "series") {
    void seriesCount().then((series) => send({ series }));
  } else if (message === "stop") {
    void server
      .close()
      .then(() => queue.close())
      .then(() => process.exit(0));
  }
});
send({ url: server.url });
