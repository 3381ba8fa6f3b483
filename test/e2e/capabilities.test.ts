/**
 * Routing by capability through the whole deployment: a worker that has
 * `kvm` (asserted by its config) and one whose probe says no. Every kvm job
 * must land on the first; the second still takes plain jobs.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { PostedStatus } from "../../src/emulator/index.js";
import { startWorkerProcess, type WorkerProcess, writeWorkerConfig } from "../fixtures/worker-process.js";
import { type Deployment, sh, startDeployment, waitFor } from "./harness.js";

const KVM_JOBS = 20;
const PLAIN_JOBS = 4;
const kvmContexts = Array.from({ length: KVM_JOBS }, (_, i) => `vm-${String(i + 1).padStart(2, "0")}`);
const plainContexts = Array.from({ length: PLAIN_JOBS }, (_, i) => `plain-${i + 1}`);

describe("capabilities", () => {
  const flags = mkdtempSync(join(tmpdir(), "hangar-caps-flag-"));
  const release = join(flags, "release-plain-jobs");
  // The jobs run sandboxed as another uid: they see the flag directory only as a trusted path.
  chmodSync(flags, 0o755);
  let deployment: Deployment;
  let plainWorker: WorkerProcess | undefined;

  before(async () => {
    deployment = await startDeployment({
      worker: {
        name: "kvm-worker",
        capabilities: ["kvm"],
        concurrency: 2,
        sandbox: { trustedPaths: [flags] },
      },
      projects: {
        "acme/hypervisor": {
          branches: {
            main: [
              ...kvmContexts.map((name) => ({ name, capabilities: ["kvm"] })),
              ...plainContexts.map((name) => ({ name, env: { RELEASE: release } })),
            ],
          },
        },
      },
      trust: { users: ["alice"] },
    });
    await deployment.emulator.createRepo({
      repo: "acme/hypervisor",
      files: {
        // Plain jobs wait until the test saw the probe-less worker take one, so it cannot sit idle.
        ".hangar/run": sh(
          'case "$TEST_OS" in plain-*) while [ ! -e "$RELEASE" ]; do sleep 0.1; done;; esac\necho "ran $TEST_OS on capabilities [$HANGAR_CAPABILITIES]"',
        ),
      },
    });
    const config = writeWorkerConfig(deployment, "plain-worker", {
      name: "plain-worker",
      workDir: "work-plain",
      concurrency: 2,
    });
    plainWorker = await startWorkerProcess(config);
  });
  after(async () => {
    await plainWorker?.stop();
    await deployment?.stop();
    rmSync(flags, { recursive: true, force: true });
  });

  test("the worker whose probe said no does not consume the kvm queue", async () => {
    const probe = await waitFor(
      "the plain worker's kvm probe",
      async () => plainWorker?.logs.find((l) => String(l.msg).startsWith("capability probe: kvm")),
      60_000,
    );
    assert.equal(probe.msg, "capability probe: kvm no", "the plain worker's kvm probe said no");
    assert.equal(typeof probe.reason, "string");
    assert.ok(String(probe.reason).length > 0);
    const ready = plainWorker?.logs.find((l) => l.msg === "worker ready");
    assert.deepEqual(ready?.queues, ["public"]);
    assert.equal(
      plainWorker?.logs.find((l) => l.msg === "worker queues extended"),
      undefined,
    );
    const kvmReady = deployment.logs.find((l) => l.msg === "worker ready");
    assert.deepEqual(kvmReady?.queues, ["public", "public-kvm"]);
  });

  test(`all ${KVM_JOBS} kvm jobs land on the kvm worker; the other worker runs plain ones`, async () => {
    const pull = await deployment.emulator.openPull({
      repo: "acme/hypervisor",
      author: "alice",
      files: { "guest.txt": "boot me\n" },
    });
    const statuses = () => deployment.emulator.statuses("acme/hypervisor", pull.sha);
    await waitFor(
      "the plain worker to take a plain job",
      async () =>
        (await statuses()).some((s) => s.description === "In progress [plain-worker]") ? true : undefined,
      120_000,
    );
    writeFileSync(release, "");
    const all = [...kvmContexts, ...plainContexts];
    const posted = await waitFor(
      "every context to finish",
      async () => {
        const list = await statuses();
        const done = all.every((context) => list.some((s) => s.context === context && s.state !== "pending"));
        return done ? list : undefined;
      },
      240_000,
    );
    const of = (context: string): PostedStatus[] => posted.filter((s) => s.context === context);
    for (const context of kvmContexts) {
      assert.deepEqual(
        of(context).map((s) => [s.state, s.description]),
        [
          ["pending", "Not yet tested"],
          ["pending", "In progress [kvm-worker]"],
          ["success", "Success [kvm-worker]"],
        ],
        context,
      );
    }
    for (const context of plainContexts) assert.equal(of(context).at(-1)?.state, "success", context);
    assert.ok(posted.some((s) => s.description === "Success [plain-worker]"));
    assert.ok(
      !posted.some((s) => kvmContexts.includes(s.context) && s.description?.includes("plain-worker")),
    );
  });
});
