/**
 * The sandbox's parts on their own: its description (bwrap arguments), what
 * happens without bwrap or with the sandbox off, which of hangar's files it
 * hides, staging, and per-job cgroups. The executors' conformance suites test
 * what a job sees and can do.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import { parseConfig } from "../../src/config/index.js";
import type { ExecSpec } from "../../src/runner/executor.js";
import { createExecutor } from "../../src/runner/executors.js";
import { ProcessExecutor } from "../../src/runner/process-executor.js";
import type { SandboxPlan } from "../../src/runner/sandbox/bwrap-args.js";
import { Cgroups } from "../../src/runner/sandbox/cgroup.js";
import { planSandbox } from "../../src/runner/sandbox/host-view.js";
import { bwrapArguments, hangarStatePaths, sandboxSettings } from "../../src/runner/sandbox/index.js";
import { createLogger } from "../../src/util/logger.js";

const run = promisify(execFile);

import { waitUntil } from "./executor-conformance.js";
import { processSandboxToolsMissing } from "./sandbox-tools.js";

const dir = mkdtempSync(join(tmpdir(), "hangar-sandbox-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A job directory with checkout, attachments and home, under parent. */
function jobSpec(parent: string, script: string, chunks: Buffer[] = []): ExecSpec {
  mkdirSync(parent, { recursive: true });
  const jobDir = mkdtempSync(join(parent, "job-"));
  for (const sub of ["checkout", "attachments", "home"]) mkdirSync(join(jobDir, sub));
  return {
    argv: ["/bin/sh", "-c", script],
    checkout: join(jobDir, "checkout"),
    attachments: join(jobDir, "attachments"),
    jobDir,
    network: false,
    env: { PATH: "/usr/bin:/bin", HOME: join(jobDir, "home") },
    timeoutMs: 60_000,
    signal: new AbortController().signal,
    onOutput: (chunk) => chunks.push(chunk),
  };
}

function defaultSettings() {
  const settings = sandboxSettings(parseConfig({}, join(dir, "hangar.yaml"), dir));
  assert.ok(settings, "the sandbox is on with no setting at all");
  return settings;
}

describe("the bwrap description", () => {
  const plan: SandboxPlan = {
    uid: 65534,
    gid: 65534,
    system: [
      { kind: "dir", source: "/usr", path: "/usr" },
      { kind: "symlink", path: "/bin", target: "usr/bin" },
    ],
    readOnly: [{ source: "/opt/hangar/dist", path: "/opt/hangar/dist" }],
    hidden: [
      { kind: "dir", path: "/opt/hangar/work" },
      { kind: "file", path: "/opt/hangar/hangar.yaml" },
    ],
    jobDir: { source: "/run/hangar-sandbox/d0", path: "/opt/hangar/work/job-1" },
    shared: [{ source: "/var/cache/ccache", path: "/var/cache/ccache" }],
    secretsDir: { source: "/run/hangar-sandbox/d0/secrets", path: "/opt/hangar/work/job-1/secrets" },
    tmp: { tmpfsBytes: 1024 },
    varTmpLink: true,
    network: false,
    devices: [],
    chdir: "/opt/hangar/work/job-1/checkout",
    env: { HOME: "/opt/hangar/work/job-1/home" },
  };
  const args = bwrapArguments(plan);
  const at = (...sequence: string[]) =>
    args.findIndex((_, i) => sequence.every((word, j) => args[i + j] === word));

  test("an untrusted job gets namespaces of its own, a trusted one keeps the host's network", () => {
    assert.ok(at("--unshare-all") >= 0 && at("--unshare-user") >= 0 && at("--disable-userns") >= 0);
    assert.ok(at("--die-with-parent") >= 0 && at("--new-session") >= 0);
    assert.equal(at("--share-net"), -1);
    assert.ok(bwrapArguments({ ...plan, network: true }).includes("--share-net"));
  });

  test("hidden state is covered, and its cover sealed only after the job directory is bound inside it", () => {
    const bound = at("--bind", "/run/hangar-sandbox/d0", "/opt/hangar/work/job-1");
    assert.ok(at("--tmpfs", "/opt/hangar/work") >= 0 && at("--tmpfs", "/opt/hangar/work") < bound);
    assert.ok(at("--remount-ro", "/opt/hangar/work") > bound);
    assert.ok(at("--ro-bind", "/dev/null", "/opt/hangar/hangar.yaml") > at("--ro-bind", "/usr", "/usr"));
    assert.ok(at("--ro-bind", "/run/hangar-sandbox/d0/secrets", "/opt/hangar/work/job-1/secrets") > bound);
  });

  test("directories shared with trusted jobs are bound writable after the hiding", () => {
    const shared = at("--bind", "/var/cache/ccache", "/var/cache/ccache");
    assert.ok(shared > at("--tmpfs", "/opt/hangar/work"));
    assert.ok(shared < at("--remount-ro", "/"));
    assert.equal(bwrapArguments({ ...plan, shared: [] }).includes("/var/cache/ccache"), false);
  });

  test("/tmp comes first, the root goes read-only last, and only the job's environment passes", () => {
    assert.ok(at("--size", "1024", "--tmpfs", "/tmp") < at("--ro-bind", "/usr", "/usr"));
    assert.ok(at("--symlink", "usr/bin", "/bin") >= 0, "merged-/usr links are recreated");
    assert.ok(at("--remount-ro", "/") > at("--remount-ro", "/opt/hangar/work"));
    assert.ok(at("--clearenv") < at("--setenv", "HOME", "/opt/hangar/work/job-1/home"));
  });
});

describe("hangar's own files", () => {
  test("every file and directory hangar keeps is on the hidden list", () => {
    const loaded = parseConfig(
      {
        webhook: { secret: { file: "secrets/webhook" } },
        queue: { sqlite: { path: "state/queue.sqlite" } },
        forge: { github: { token: { file: "/etc/hangar/token" }, outbox: "state/outbox.sqlite" } },
        store: { fs: { dir: "store" } },
        worker: { secrets: { s3: { file: "secrets/s3.yaml" } }, imageCache: { dir: "images" } },
        dashboard: { adminToken: { file: "secrets/admin" } },
      },
      "/srv/hangar/hangar.yaml",
      "/srv/hangar",
    );
    const paths = hangarStatePaths(loaded, "/srv/hangar/work");
    for (const expected of [
      "/srv/hangar/hangar.yaml",
      "/srv/hangar/secrets/webhook",
      "/etc/hangar/token",
      "/srv/hangar/secrets/s3.yaml",
      "/srv/hangar/secrets/admin",
      "/srv/hangar/state/queue.sqlite",
      "/srv/hangar/state/queue.sqlite-wal",
      "/srv/hangar/state/hangar-jobs.sqlite",
      "/srv/hangar/state/hangar-signing.key",
      "/srv/hangar/state/outbox.sqlite",
      "/srv/hangar/store",
      "/srv/hangar/hangar-webhook-spool",
      "/srv/hangar/images",
      "/srv/hangar/work",
    ]) {
      assert.ok(paths.includes(expected), `${expected} is hidden`);
    }
  });
});

describe("staging", () => {
  test("a job directory the sandbox user cannot reach is staged, one it can reach is not", async () => {
    const settings = defaultSettings();
    const closed = join(dir, "closed");
    mkdirSync(closed, { mode: 0o700 });
    const hidden = await planSandbox(jobSpec(closed, "true"), settings, {});
    assert.equal(hidden.staged[0]?.source, hidden.plan.jobDir.path);
    assert.equal(hidden.plan.jobDir.source, hidden.staged[0]?.mountPoint);
    const open = join(dir, "open");
    mkdirSync(open);
    chmodSync(dir, 0o711);
    try {
      const reachable = await planSandbox(jobSpec(open, "true"), settings, {});
      assert.deepEqual(
        reachable.staged.filter((s) => s.source.startsWith(dir)),
        [],
      );
      assert.equal(reachable.plan.jobDir.source, reachable.plan.jobDir.path);
    } finally {
      chmodSync(dir, 0o700);
    }
  });
});

describe("process sandbox", { skip: processSandboxToolsMissing() }, () => {
  test("without bwrap, a job is not started, and the reason names the package and the opt-out", async () => {
    const executor = new ProcessExecutor({ sandbox: { ...defaultSettings(), bwrap: "/nonexistent/bwrap" } });
    const outcome = await executor.run(jobSpec(join(dir, "work"), "true"));
    assert.equal(outcome.kind, "not-started");
    assert.match(
      outcome.kind === "not-started" ? outcome.reason : "",
      /bubblewrap.*worker\.sandbox\.mode: none/,
    );
  });

  test("mode none runs jobs as the worker, and says so loudly at start", async () => {
    const logs = new PassThrough();
    const lines: string[] = [];
    logs.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
    const loaded = parseConfig({ worker: { sandbox: { mode: "none" } } }, join(dir, "hangar.yaml"), dir);
    const executor = createExecutor(loaded, createLogger({ destination: logs }));
    const chunks: Buffer[] = [];
    assert.deepEqual(await executor.run(jobSpec(join(dir, "work"), "id -u", chunks)), {
      kind: "exited",
      code: 0,
    });
    assert.equal(Buffer.concat(chunks).toString(), `${process.getuid?.()}\n`);
    const warning = lines
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .find((l) => l.level === 40);
    assert.match(warning?.msg ?? "", /UNSANDBOXED/);
  });

  test("a worker that is not root still runs its jobs in namespaces, as its own user", async () => {
    const uid = 4242;
    const home = mkdtempSync(join(tmpdir(), "hangar-sandbox-user-"));
    try {
      chownSync(home, uid, uid);
      const executor = new URL("../../src/runner/process-executor.js", import.meta.url).href;
      const script = `
        import { mkdirSync, mkdtempSync } from "node:fs";
        import { ProcessExecutor } from ${JSON.stringify(executor)};
        const jobDir = mkdtempSync(${JSON.stringify(`${home}/job-`)});
        for (const sub of ["checkout", "attachments"]) mkdirSync(jobDir + "/" + sub);
        const settings = ${JSON.stringify(defaultSettings())};
        let output = "";
        const outcome = await new ProcessExecutor({ sandbox: settings }).run({
          argv: ["/bin/sh", "-c", "id -u; ls -d /proc/[0-9]* | wc -l"],
          checkout: jobDir + "/checkout", attachments: jobDir + "/attachments", jobDir, network: false,
          env: { PATH: "/usr/bin:/bin" }, timeoutMs: 30000, signal: new AbortController().signal,
          onOutput: (chunk) => { output += chunk; },
        });
        process.stdout.write(JSON.stringify({ outcome, output }));`;
      const { stdout } = await run(
        "setpriv",
        [
          `--reuid=${uid}`,
          `--regid=${uid}`,
          "--clear-groups",
          process.execPath,
          "--input-type=module",
          "-e",
          script,
        ],
        { cwd: home, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home } },
      );
      const { outcome, output } = JSON.parse(stdout) as { outcome: unknown; output: string };
      assert.deepEqual(outcome, { kind: "exited", code: 0 });
      const [id, processes] = output.trim().split("\n");
      assert.equal(id, String(uid));
      assert.ok(Number(processes) < 5, `a PID namespace of its own (${processes} processes)`);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("a job's cgroups are removed when it ends", async (t) => {
    const cgroups = await Cgroups.probe();
    if (!(cgroups instanceof Cgroups)) return t.skip(`cgroups not writable here: ${cgroups.unavailable}`);
    const own = readFileSync("/proc/self/cgroup", "utf8").match(/^\d+:pids:(.*)$/m)?.[1] ?? "/";
    const parent = join("/sys/fs/cgroup/pids", own, "hangar");
    const mine = () => readdirSync(parent).filter((name) => name.startsWith(`${process.pid}-`));
    const settings = defaultSettings();
    const executor = new ProcessExecutor({ sandbox: settings });
    const spec = jobSpec(join(dir, "work"), "while [ ! -e go ]; do sleep 0.05; done");
    const running = executor.run(spec);
    await waitUntil("the job's cgroup", () => mine().length === 1);
    const group = join(parent, mine()[0] ?? "");
    assert.equal(readFileSync(join(group, "pids.max"), "utf8").trim(), String(settings.maxProcesses));
    await waitUntil("the job in it", () => readFileSync(join(group, "cgroup.procs"), "utf8").trim() !== "");
    writeFileSync(join(spec.checkout, "go"), "");
    assert.deepEqual(await running, { kind: "exited", code: 0 });
    assert.deepEqual(mine(), []);
  });
});
