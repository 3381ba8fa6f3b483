/**
 * The webhook in its own process, as `hangar webhook` runs it, for the ingest
 * benchmark. Usage: node webhook-server.js CONFIG LOGFILE. Prints {"url": ...}
 * on stdout once listening; closes cleanly on SIGTERM.
 */
import { createWriteStream } from "node:fs";
import { startServices } from "../src/cli/services.js";
import { loadConfigFile } from "../src/config/index.js";
import { createLogger } from "../src/util/logger.js";

const [configFile, logFile] = process.argv.slice(2);
if (configFile === undefined || logFile === undefined) {
  process.stderr.write("usage: webhook-server.js CONFIG LOGFILE\n");
  process.exit(2);
}
const loaded = loadConfigFile(configFile);
const logger = createLogger({ level: loaded.config.log.level, destination: createWriteStream(logFile) });
const running = await startServices({
  loaded,
  env: process.env,
  roles: { webhook: true, scan: false, run: false, storeServer: false },
  logger,
});
process.stdout.write(`${JSON.stringify({ url: running.webhookUrl })}\n`);
process.once("SIGTERM", () => {
  running.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`close failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
});
