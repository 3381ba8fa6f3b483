/**
 * `hangar local -i`, driven through a pseudo-terminal (util-linux `script`)
 * as a person would: the self-tests, then a shell with the deployment's
 * environment in which `hangar queue inspect` works; `exit` tears it all down.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { processesWithEnv, rabbitUnavailable } from "../../src/local/rabbit-node.js";
import { waitUntil } from "../../src/local/wait.js";
import { CLI } from "./cli.js";

const withRabbit = rabbitUnavailable() === undefined || process.env.CI === "true";
const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

test(`hangar local -i${withRabbit ? " --rabbitmq" : ""}: a shell inside the deployment, torn down on exit`, async () => {
  const command = [process.execPath, CLI, "local", "-i", ...(withRabbit ? ["--rabbitmq"] : [])]
    .map(quote)
    .join(" ");
  const terminal = spawn("script", ["-qfec", command, "/dev/null"], {
    env: { ...process.env, SHELL: "/bin/sh", NODE_NO_WARNINGS: "1", TERM: "dumb" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let screen = "";
  terminal.stdout.setEncoding("utf8").on("data", (chunk: string) => (screen += chunk));
  terminal.stderr.setEncoding("utf8").on("data", (chunk: string) => (screen += chunk));
  const exited = once(terminal, "exit");
  const see = (pattern: RegExp, what: string) =>
    waitUntil(
      () => {
        if (terminal.exitCode !== null)
          throw new Error(`the terminal closed while waiting for ${what}:\n${screen}`);
        return pattern.test(screen);
      },
      what,
      240_000,
    );
  const type = (line: string) => terminal.stdin.write(`${line}\n`);
  try {
    await see(/A shell inside the deployment/, "the shell");
    assert.match(screen, /selftest summary: 3 of 3 checks passed/);
    const workspace = /workspace (\/\S+)/.exec(screen)?.[1];
    assert.ok(workspace);
    const node = /\(node (\S+@localhost)\)/.exec(screen)?.[1];

    type('hangar queue inspect; echo "inspect-exit-$?"');
    await see(/inspect-exit-\d/, "hangar queue inspect");
    assert.match(screen, /inspect-exit-0/, screen);
    assert.match(screen, /^public: 0 ready/m);
    // The shell's prompt may land before the output on the same line.
    assert.match(screen, /^(# )?webhook: 0 ready/m);

    type('echo "config=$HANGAR_CONFIG queue=$HANGAR_QUEUE_URL api=$HANGAR_GITHUB_API"');
    await see(/config=\/\S+ queue=\S+ api=http\S+/, "the exported environment");
    assert.match(
      screen,
      new RegExp(
        `config=${workspace}/hangar\\.yaml queue=${withRabbit ? "amqps://localhost:\\d+" : "sqlite:"}`,
      ),
    );

    if (node) {
      type('rabbitmqctl -q list_queues name; echo "ctl-exit-$?"');
      await see(/ctl-exit-\d/, "rabbitmqctl of the private node");
      assert.match(screen, /ctl-exit-0/, screen);
    }

    type("exit");
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, screen);
    assert.match(screen, /hangar local: stopped everything it started/);
    assert.equal(existsSync(workspace), false, "the workspace is gone");
    if (node)
      assert.deepEqual(processesWithEnv("RABBITMQ_NODENAME", node), [], "no process of the node is left");
  } finally {
    if (terminal.exitCode === null) {
      terminal.kill("SIGTERM");
      await exited;
    }
  }
});
