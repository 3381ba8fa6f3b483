import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { verify } from "@octokit/webhooks-methods";
import { parseListen } from "../../src/cli/commands/github-emulator.js";
import { connectEmulator } from "../../src/emulator/index.js";
import { startReceiver, tempDir, waitFor } from "./helpers.js";

const commandModule = fileURLToPath(new URL("../../src/cli/commands/github-emulator.js", import.meta.url));

test("parseListen", () => {
  assert.deepEqual(parseListen("127.0.0.1:0"), { host: "127.0.0.1", port: 0 });
  assert.deepEqual(parseListen("[::1]:8090"), { host: "::1", port: 8090 });
  assert.throws(() => parseListen("8090"), /--listen/);
});

test("hangar github-emulator serves the API, is driven over HTTP, and stops on SIGTERM", async () => {
  const dir = await tempDir("emu-cli");
  const receiver = await startReceiver();
  const token = "cli-token-xyz";
  const secret = "cli-secret";
  await writeFile(join(dir.path, "token"), `${token}\n`);
  await writeFile(join(dir.path, "secret"), `${secret}\n`);
  const script = [
    'import { Command } from "commander";',
    `import { register } from ${JSON.stringify(commandModule)};`,
    "const program = new Command();",
    "register(program);",
    'await program.parseAsync(process.argv.slice(1), { from: "user" });',
  ].join("\n");
  const child = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      script,
      "--",
      "github-emulator",
      "--dir",
      join(dir.path, "repos"),
      "--webhook-url",
      receiver.url,
      "--webhook-secret-file",
      join(dir.path, "secret"),
      "--token-file",
      join(dir.path, "token"),
    ],
    { cwd: fileURLToPath(new URL("../../..", import.meta.url)), stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    const url = await waitFor("the API URL", () => /^api: (\S+)$/m.exec(stdout)?.[1], 10_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}; stderr: ${stderr}`);
      },
    );
    assert.match(stdout, new RegExp(`^clone: ${join(dir.path, "repos")}$`, "m"));
    assert.ok(!stdout.includes(token) && !stdout.includes(secret), "no secret printed");

    const client = connectEmulator(url);
    await client.createRepo({ repo: "o/r", files: { a: "1" } });
    const opened = await client.openPull({ repo: "o/r", files: { a: "2" } });
    assert.equal(opened.delivery?.status, 200);
    const hook = receiver.received.at(-1);
    assert.ok(hook);
    assert.equal(await verify(secret, hook.body, String(hook.headers["x-hub-signature-256"])), true);

    assert.equal((await fetch(`${url}/repos/o/r`)).status, 401);
    assert.equal(
      (await fetch(`${url}/repos/o/r`, { headers: { authorization: `token ${token}` } })).status,
      200,
    );

    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
  } finally {
    child.kill("SIGKILL");
    await receiver.close();
    await dir.remove();
  }
});
