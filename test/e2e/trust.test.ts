/**
 * Trust on the job side: a secret a trusted job prints is masked (`***`) in
 * the stored log; a job for an untrusted author's code (an entry marked
 * `trusted: false`, as `/hangar approve` queues it) gets no secret at all.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadConfigFile } from "../../src/config/index.js";
import { openConfiguredQueue } from "../../src/queue/from-config.js";
import { createLogger } from "../../src/util/logger.js";
import { type Deployment, isFinal, sh, startDeployment, waitForStatuses } from "./harness.js";

const SECRET = `s3cr3t-${randomBytes(12).toString("hex")}`;
const SCRIPT = sh(
  `env > "$ENV_FILE"\nif [ -n "\${HANGAR_SECRETS_DIR:-}" ]; then echo "token: $(cat "$HANGAR_SECRETS_DIR/api-token")"; else echo "no secrets dir"; fi`,
);

describe("secrets and trust", () => {
  let deployment: Deployment | undefined;
  after(() => deployment?.stop());

  const fetchLog = async (url: string | null | undefined) => (await fetch(new URL("log", url ?? ""))).text();

  test("a secret a trusted job prints appears as *** in the stored log", async () => {
    deployment = await startDeployment({
      projects: {
        "acme/secret": {
          branches: { main: [{ name: "leaky", secrets: ["api-token"], env: { ENV_FILE: "trusted-env" } }] },
        },
      },
      trust: { users: ["alice"] },
      worker: { secrets: { "api-token": SECRET } },
    });
    await deployment.emulator.createRepo({ repo: "acme/secret", files: { ".hangar/run": SCRIPT } });
    const pull = await deployment.emulator.openPull({
      repo: "acme/secret",
      author: "alice",
      files: { x: "1\n" },
    });
    const statuses = await waitForStatuses(deployment, "acme/secret", pull.sha, "leaky", isFinal);
    assert.equal(statuses.at(-1)?.state, "success");
    const log = await fetchLog(statuses.at(-1)?.target_url);
    assert.match(log, /token: \*\*\*/);
    assert.equal(log.includes(SECRET), false, "the secret value is not in the log");
  });

  test("an untrusted author's job sees no secret, even when its entry names one", async () => {
    const target = deployment as Deployment;
    const pull = await target.emulator.openPull({
      repo: "acme/secret",
      author: "mallory",
      files: { y: "1\n" },
    });
    await waitForStatuses(target, "acme/secret", pull.sha, "leaky", (s) =>
      s.some((status) => status.description === "Manual testing required"),
    );
    const envFile = join(target.dir, "untrusted-env");
    const loaded = loadConfigFile(target.configFile);
    const queue = await openConfiguredQueue(loaded, {}, createLogger({ level: "silent" }));
    try {
      const job = {
        repo: "acme/secret",
        sha: pull.sha,
        pull: pull.number,
        context: "leaky",
        slug: `pull-${pull.number}-approved-leaky`,
        env: { ENV_FILE: envFile },
        secrets: ["api-token"],
        trusted: false,
      };
      await queue.publish(loaded.config.queue.names.public, JSON.stringify({ job, human: "approved" }));
    } finally {
      await queue.close();
    }
    const statuses = await waitForStatuses(target, "acme/secret", pull.sha, "leaky", isFinal);
    assert.equal(statuses.at(-1)?.state, "success");
    const environment = readFileSync(envFile, "utf8");
    assert.equal(environment.includes(SECRET), false, "no secret value in the job's environment");
    assert.doesNotMatch(environment, /HANGAR_SECRETS_DIR/);
    const log = await fetchLog(statuses.at(-1)?.target_url);
    assert.match(log, /no secrets dir/);
    assert.match(log, /Untrusted code: this job gets no secrets/);
    assert.equal(log.includes(SECRET), false);
  });
});
