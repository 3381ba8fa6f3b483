/**
 * `hangar local`: the whole system on one machine, on embedded defaults, next
 * to the GitHub emulator, with a demo pull request going through all three phases.
 */

import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { ALL_ROLES, startServices } from "../cli/services.js";
import { loadConfigFile } from "../config/index.js";
import { type Emulator, startEmulator } from "../emulator/index.js";
import { createLogger } from "../util/logger.js";
import { DEMO_AUTHOR, DEMO_CONTEXTS, DEMO_FILES, DEMO_PULL_FILES, DEMO_REPO } from "./demo.js";
import { watchStatuses } from "./watch.js";
import { createWorkspace, localConfig, writeConfig } from "./workspace.js";

export interface LocalOptions {
  /** Exit after the demo PR: 0 when all its contexts succeeded. */
  readonly once: boolean;
  /** Leave the workspace directory in place afterwards. */
  readonly keep: boolean;
  readonly timeoutMs: number;
  readonly print: (line: string) => void;
  /** Resolves when the user wants to stop (Ctrl-C); only used without `once`. */
  readonly stopped: Promise<void>;
}

async function openDemoPull(emulator: Emulator, print: (line: string) => void) {
  await emulator.createRepo({ repo: DEMO_REPO, files: DEMO_FILES, description: "hangar's demo project" });
  const pull = await emulator.openPull({
    repo: DEMO_REPO,
    author: DEMO_AUTHOR,
    title: "Demo: greet from a pull request",
    files: DEMO_PULL_FILES,
  });
  print(
    `opened ${DEMO_REPO}#${pull.number} (${pull.sha.slice(0, 8)}) by ${DEMO_AUTHOR}; webhook answered ${pull.delivery?.status ?? "nothing"}`,
  );
  if (pull.delivery?.status !== 202)
    throw new Error(
      `the webhook did not accept the demo PR's delivery (${pull.delivery?.status ?? "no delivery"})`,
    );
  return pull;
}

async function logTail(url: string | null, lines = 15): Promise<string> {
  if (!url) return "  (no log)";
  try {
    const text = await (await fetch(new URL("log", url))).text();
    return text
      .trimEnd()
      .split("\n")
      .slice(-lines)
      .map((line) => `  | ${line}`)
      .join("\n");
  } catch (error) {
    return `  (log unavailable: ${String(error)})`;
  }
}

/** Returns the exit code. */
export async function runLocal(options: LocalOptions): Promise<number> {
  const { print } = options;
  const workspace = await createWorkspace();
  const logStream = createWriteStream(workspace.logFile);
  const logger = createLogger({ level: "info", destination: logStream });
  const emulator = await startEmulator({ dir: workspace.gitDir, token: workspace.githubToken });
  let services: Awaited<ReturnType<typeof startServices>> | undefined;
  try {
    await writeConfig(workspace, localConfig(emulator.url));
    const loaded = loadConfigFile(workspace.configFile);
    services = await startServices({ loaded, env: {}, roles: ALL_ROLES, logger });
    await emulator.setWebhook({ url: services.webhookUrl ?? "", secret: workspace.webhookSecret });
    print(`hangar local: workspace ${workspace.dir}`);
    print(`  GitHub emulator  ${emulator.url}`);
    print(`  webhook          ${services.webhookUrl}`);
    print(`  log store        ${services.storeUrl}`);
    print(`  hangar's log     ${workspace.logFile}`);

    const pull = await openDemoPull(emulator, print);
    const watched = await watchStatuses(emulator, DEMO_REPO, pull.sha, DEMO_CONTEXTS, print, {
      timeoutMs: options.timeoutMs,
    });
    const failed = [...watched.final.values()].filter((status) => status.state !== "success");
    let code = 0;
    if (watched.timedOut) {
      const missing = DEMO_CONTEXTS.filter((context) => !watched.final.has(context));
      print(
        `demo PR: no result for ${missing.join(", ")} within ${options.timeoutMs / 1000} s; see ${workspace.logFile}`,
      );
      code = 1;
    } else if (failed.length > 0) {
      for (const status of failed) {
        print(
          `demo PR: ${status.context} ended in ${status.state}: ${status.description}\n${await logTail(status.target_url)}`,
        );
      }
      code = 1;
    } else {
      print(`demo PR passed: ${DEMO_CONTEXTS.length} contexts succeeded.`);
    }
    if (!options.once) {
      print("hangar is running. Open more pull requests through the emulator, e.g.:");
      print(
        `  curl -X POST ${emulator.url}/_emulator/repos/${DEMO_REPO}/pulls -H 'content-type: application/json' \\`,
      );
      print(
        `    -d '{"author": "${DEMO_AUTHOR}", "title": "Another change", "files": {"greet.sh": "echo hi again\\n"}}'`,
      );
      print("Press Ctrl-C to stop and clean up.");
      const follow = new AbortController();
      void options.stopped.then(() => follow.abort());
      await options.stopped;
    }
    return code;
  } finally {
    await services?.stop();
    await emulator.close();
    logStream.end();
    await once(logStream, "close").catch(() => undefined);
    if (options.keep) print(`workspace kept: ${workspace.dir}`);
    else await workspace.remove();
  }
}
