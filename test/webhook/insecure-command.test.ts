/** `hangar webhook --insecure-no-signature`: starts without a secret, warns, takes unsigned deliveries. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { CLI } from "../e2e/harness.js";
import { deliver, pullRequestPayload } from "./harness.js";

test("hangar webhook --insecure-no-signature accepts unsigned deliveries and says so loudly", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hangar-insecure-"));
  const configFile = join(dir, "hangar.yaml");
  writeFileSync(configFile, "webhook:\n  listen: 127.0.0.1:0\nqueue:\n  sqlite: {path: q.sqlite}\n");
  const child = spawn(process.execPath, [CLI, "webhook", "--config", configFile, "--insecure-no-signature"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    const logs: Record<string, unknown>[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`exited with ${code}: ${JSON.stringify(logs)}`)));
      createInterface({ input: child.stderr }).on("line", (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === "hangar is up") resolve(String(entry.webhook));
      });
    });
    assert.ok(logs.some((l) => l.level === 40 && String(l.msg).startsWith("INSECURE MODE")));
    assert.ok(existsSync(join(dir, "hangar-webhook-spool", "accepted.sqlite")), "spool next to the config");
    const r = await deliver(url, {
      event: "pull_request",
      delivery: "i-1",
      body: pullRequestPayload(),
      signature: null,
    });
    assert.equal(r.status, 202);
  } finally {
    child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
