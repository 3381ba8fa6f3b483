/** The demo of `hangar local`: a pull request in the emulator goes through all three phases while you watch. */
import type { Emulator } from "../emulator/index.js";
import { DEMO_AUTHOR, DEMO_CONTEXTS, DEMO_FILES, DEMO_PULL_FILES, DEMO_REPO } from "./demo.js";
import { watchStatuses } from "./watch.js";

export interface DemoOptions {
  /** Exit after the demo PR instead of waiting for `stopped`. */
  readonly once: boolean;
  readonly timeoutMs: number;
  readonly print: (line: string) => void;
  readonly stopped: Promise<void>;
  readonly logFile: string;
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
export async function runDemo(emulator: Emulator, options: DemoOptions): Promise<number> {
  const { print } = options;
  const pull = await openDemoPull(emulator, print);
  const watched = await watchStatuses(emulator, DEMO_REPO, pull.sha, DEMO_CONTEXTS, print, {
    timeoutMs: options.timeoutMs,
  });
  const failed = [...watched.final.values()].filter((status) => status.state !== "success");
  let code = 0;
  if (watched.timedOut) {
    const missing = DEMO_CONTEXTS.filter((context) => !watched.final.has(context));
    print(
      `demo PR: no result for ${missing.join(", ")} within ${options.timeoutMs / 1000} s; see ${options.logFile}`,
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
    await options.stopped;
  }
  return code;
}
