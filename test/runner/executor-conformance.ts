/**
 * One test suite for every executor (process, container): what a job's
 * command may rely on, that nothing of a job outlives it, and that the
 * sandbox (on by default) holds: the job sees none of the worker's state,
 * processes or network and stays within its limits. Each executor's
 * *.test.ts calls executorConformance() with its own setup.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { configSchema, parseConfig } from "../../src/config/index.js";
import type { Forge } from "../../src/forge/types.js";
import type { Job } from "../../src/queue/messages.js";
import type { ExecOutcome, ExecSpec, Executor } from "../../src/runner/executor.js";
import { runJob } from "../../src/runner/job.js";
import { type SandboxSettings, sandboxSettings } from "../../src/runner/sandbox/index.js";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/types.js";
import { silentLogger } from "../../src/util/logger.js";
import { hostAddress, TcpGreeter } from "./network.js";

const run = promisify(execFile);

export interface ConformanceTarget {
  readonly name: string;
  /** A reason to skip, or false (decided before the suite starts). */
  readonly skip: string | false;
  readonly setup?: () => Promise<void>;
  /** The executor under test, sandboxed with these settings. */
  readonly executor: (sandbox: SandboxSettings) => Executor;
  /** Whether the job sees the host's system paths (bwrap: yes, read-only; a container: its image instead). */
  readonly seesSystemPaths: boolean;
  /** Whether the outcome says a SIGKILL was the memory limit's (podman cannot tell). */
  readonly namesMemoryKills: boolean;
  /** Added to every spec (e.g. the container image). */
  readonly base?: Partial<ExecSpec>;
  /** A spec change that makes the executor unable to start the job. */
  readonly unstartable: Partial<ExecSpec>;
  /** Things of this executor still there after a job (containers, ...): must be empty. */
  readonly leftovers: () => Promise<string[]>;
  /** Fields that make a whole job (through runJob) impossible to start. */
  readonly unstartableJob: Partial<Job>;
}

const git = (cwd: string, ...args: string[]) =>
  run("git", ["-C", cwd, ...args], {
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.invalid",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.invalid",
    },
  });

const RUN_SCRIPT = `#!/bin/sh
echo "context=$TEST_OS"
echo "secrets=[$(ls "\${HANGAR_SECRETS_DIR:-/nonexistent}" 2>/dev/null | tr '\\n' ' ')]"
echo attached > "$TEST_ATTACHMENTS/result.txt"
case "$TEST_OS" in fail) exit 4;; esac
`;

/** A repository `acme/demo` under cloneBase with .hangar/run (and .hangar/container naming image); its commit. */
async function demoRepository(cloneBase: string, image: string | undefined): Promise<string> {
  const repo = join(cloneBase, "acme", "demo");
  mkdirSync(join(repo, ".hangar"), { recursive: true });
  writeFileSync(join(repo, ".hangar", "run"), RUN_SCRIPT, { mode: 0o755 });
  if (image) writeFileSync(join(repo, ".hangar", "container"), `# the test image\n${image}\n`);
  await git(repo, "init", "-q");
  await git(repo, "add", ".");
  await git(repo, "commit", "-q", "-m", "demo");
  return (await git(repo, "rev-parse", "HEAD")).stdout.trim();
}

function recordingForge(statuses: { context: string; state: string; description: string }[]): Forge {
  const unused = () => Promise.reject(new Error("not used by runJob"));
  return {
    getPull: unused,
    listOpenPulls: unused,
    getStatuses: async () => new Map(),
    postStatus: async (_repo, _sha, status) => {
      statuses.push({ context: status.context, state: status.state, description: status.description ?? "" });
    },
    readFile: unused,
    isOrgMember: unused,
    createIssue: unused,
    comment: unused,
  };
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Command lines of every process on the host (containers' processes included: they share the kernel). */
export async function processCommandLines(): Promise<string[]> {
  const { stdout } = await run("ps", ["-eo", "args="], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.split("\n");
}

async function mountsMentioning(text: string): Promise<string[]> {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .filter((line) => line.includes(text));
}

/** Limits small enough to hit in a test. */
const TEST_LIMITS = { maxProcesses: 128, memoryMiB: 256, diskMiB: 64 };
/** What the worker keeps in its state directory; each must stay out of a job's sight. */
const MARKER = `hangar-marker-${randomBytes(8).toString("hex")}`;

/**
 * A worker whose config, secrets and state live in stateDir, which the process sandbox
 * shows the job as a system path (as /etc or /opt would): only hiding keeps them away.
 */
function workerState(stateDir: string): { sandbox: SandboxSettings; workDir: string } {
  const workDir = join(stateDir, "work");
  mkdirSync(workDir, { recursive: true });
  const defaults = configSchema.parse({}).worker.sandbox.systemPaths;
  const config = {
    worker: {
      secrets: { token: { file: "token-file" } },
      sandbox: { ...TEST_LIMITS, systemPaths: [...defaults, stateDir] },
    },
  };
  const configFile = join(stateDir, "hangar.yaml");
  for (const name of ["hangar.yaml", "token-file", "hangar-queue.sqlite"]) {
    writeFileSync(join(stateDir, name), `${MARKER}\n`);
  }
  mkdirSync(join(stateDir, "hangar-store"));
  writeFileSync(join(stateDir, "hangar-store", "log"), `${MARKER}\n`);
  mkdirSync(join(workDir, "job-other"));
  writeFileSync(join(workDir, "job-other", "secret"), `${MARKER}\n`);
  writeFileSync(join(stateDir, "visible.txt"), "a system file\n");
  const sandbox = sandboxSettings(parseConfig(config, configFile, stateDir), workDir);
  assert.ok(sandbox, "the sandbox is on by default");
  return { sandbox, workDir };
}

export function executorConformance(target: ConformanceTarget): void {
  describe(`executor conformance: ${target.name}`, { skip: target.skip }, () => {
    let dir: string;
    let stateDir: string;
    let workDir: string;
    let sandbox: SandboxSettings;
    let executor: Executor;

    before(async () => {
      await target.setup?.();
      dir = mkdtempSync(join(tmpdir(), "hangar-conformance-"));
      // dir stays 0700: the sandbox user cannot pass it, as with a workDir under /root (staging.ts).
      stateDir = join(dir, "state");
      ({ sandbox, workDir } = workerState(stateDir));
      executor = target.executor(sandbox);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    function job(script: string, extra: Partial<ExecSpec> = {}) {
      const base = mkdtempSync(join(workDir, "job-"));
      const paths = {
        checkout: join(base, "checkout"),
        attachments: join(base, "attachments"),
        home: join(base, "home"),
      };
      for (const path of Object.values(paths)) mkdirSync(path);
      const chunks: Buffer[] = [];
      const spec: ExecSpec = {
        argv: ["/bin/sh", "-c", script],
        checkout: paths.checkout,
        attachments: paths.attachments,
        jobDir: base,
        network: false,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: paths.home,
          GREETING: "hello",
          TEST_ATTACHMENTS: paths.attachments,
        },
        timeoutMs: 120_000,
        signal: new AbortController().signal,
        onOutput: (chunk) => chunks.push(chunk),
        ...target.base,
        ...extra,
      };
      return { spec, paths, output: () => Buffer.concat(chunks).toString() };
    }

    /** Nothing the job started runs, and the executor left nothing behind. */
    async function assertNothingLeft(token: string, checkout: string): Promise<void> {
      await waitUntil(`processes with ${token} to be gone`, async () =>
        (await processCommandLines()).every((line) => !line.includes(token)),
      );
      await waitUntil("executor leftovers to be gone", async () => (await target.leftovers()).length === 0);
      assert.deepEqual(await mountsMentioning(checkout), [], "nothing of the job stays mounted");
    }

    test("streams output while the command still runs", async () => {
      const { spec, paths, output } = job(
        'echo "$GREETING first"; while [ ! -e go ]; do sleep 0.1; done; echo second >&2',
      );
      const running = executor.run(spec);
      await waitUntil("the first line", () => output().includes("hello first"));
      assert.doesNotMatch(output(), /second/);
      writeFileSync(join(paths.checkout, "go"), "");
      assert.deepEqual(await running, { kind: "exited", code: 0 });
      assert.match(output(), /second/);
    });

    test("maps exit codes and deadly signals", async () => {
      assert.deepEqual(await executor.run(job("exit 0").spec), { kind: "exited", code: 0 });
      assert.deepEqual(await executor.run(job("exit 3").spec), { kind: "exited", code: 3 });
      assert.deepEqual(await executor.run(job("kill -KILL $$").spec), {
        kind: "signalled",
        signal: "SIGKILL",
      });
    });

    test("a timeout kills everything the job started", async () => {
      const token = String(randomInt(100_000, 999_999));
      const { spec, paths, output } = job(`sleep ${token} & echo started; sleep ${Number(token) + 1}`, {
        timeoutMs: 5000,
      });
      const outcome: ExecOutcome = await executor.run(spec);
      assert.deepEqual(outcome, { kind: "timeout" });
      assert.match(output(), /started/, "the job ran before its timeout");
      await assertNothingLeft(token, paths.checkout);
    });

    test("a cancel kills everything the job started", async () => {
      const token = String(randomInt(100_000, 999_999));
      const controller = new AbortController();
      const { spec, paths, output } = job(`sleep ${token} & echo started; wait`, {
        signal: controller.signal,
      });
      const running = executor.run(spec);
      await waitUntil("the job to start", () => output().includes("started"));
      assert.ok((await processCommandLines()).some((line) => line.includes(`sleep ${token}`)));
      controller.abort();
      assert.deepEqual(await running, { kind: "cancelled" });
      await assertNothingLeft(token, paths.checkout);
    });

    test("a clean exit leaves nothing running either", async () => {
      const token = String(randomInt(100_000, 999_999));
      const { spec, paths } = job(`(sleep ${token} >/dev/null 2>&1 &); echo done`);
      assert.deepEqual(await executor.run(spec), { kind: "exited", code: 0 });
      await assertNothingLeft(token, paths.checkout);
    });

    test("files in TEST_ATTACHMENTS end up in the attachments directory", async () => {
      const { spec, paths } = job(
        'mkdir -p "$TEST_ATTACHMENTS/sub" && echo attached > "$TEST_ATTACHMENTS/sub/result.txt"',
      );
      assert.deepEqual(await executor.run(spec), { kind: "exited", code: 0 });
      assert.equal(readFileSync(join(paths.attachments, "sub", "result.txt"), "utf8"), "attached\n");
    });

    test("the job sees its secrets, and a job without them sees none", async () => {
      const secretsDir = mkdtempSync(join(dir, "secrets-"));
      writeFileSync(join(secretsDir, "token-a"), "value-of-a");
      const named = job('cat "$HANGAR_SECRETS_DIR/token-a"; echo; ls "$HANGAR_SECRETS_DIR"', { secretsDir });
      assert.deepEqual(await executor.run(named.spec), { kind: "exited", code: 0 });
      assert.match(named.output(), /^value-of-a\ntoken-a\n$/);
      const other = job(
        'echo "dir=[$HANGAR_SECRETS_DIR]"; cat /run/hangar/secrets/token-a 2>/dev/null; true',
      );
      assert.deepEqual(await executor.run(other.spec), { kind: "exited", code: 0 });
      assert.equal(other.output(), "dir=[]\n");
    });

    test("sees only the environment it is given", async () => {
      process.env.HANGAR_TEST_LEAK = "leaked";
      try {
        const { spec, output } = job('echo "leak=[$HANGAR_TEST_LEAK] greeting=[$GREETING]"');
        await executor.run(spec);
        assert.equal(output(), "leak=[] greeting=[hello]\n");
      } finally {
        delete process.env.HANGAR_TEST_LEAK;
      }
    });

    test("a job that cannot be started is not-started, not a test failure", async () => {
      const { spec } = job("echo never", target.unstartable);
      const outcome = await executor.run(spec);
      assert.equal(outcome.kind, "not-started");
      assert.deepEqual(await target.leftovers(), []);
    });

    describe("sandbox", () => {
      test("the job sees none of the worker's config, secrets, state or other jobs", async () => {
        const hostSecret = join(stateDir, "host-secret");
        writeFileSync(hostSecret, `${MARKER}\n`, { mode: 0o600 });
        const { spec, paths, output } = job(
          `cd ${stateDir}; cat visible.txt 2>/dev/null
          for f in hangar.yaml token-file hangar-queue.sqlite hangar-store/log work/job-other/secret; do cat "$f" 2>/dev/null; done
          ls work; cat "$OLDPWD/link-to-secret" 2>/dev/null; echo end`,
        );
        symlinkSync(hostSecret, join(paths.checkout, "link-to-secret"));
        const outcome = await executor.run(spec);
        assert.equal(outcome.kind, "exited", output());
        assert.doesNotMatch(output(), new RegExp(MARKER), "nothing of the worker's state is readable");
        assert.doesNotMatch(output(), /job-other/, "other jobs' directories are not visible");
        // stdout and stderr come through separate pipes: "end" is printed, not always last.
        assert.match(output(), /end\n/);
        if (target.seesSystemPaths)
          assert.match(output(), /^a system file\n/, "the state directory itself is visible");
        assert.equal(
          statSync(hostSecret).uid,
          0,
          "a symlink in the job's tree does not hand its target over",
        );
      });

      test("the worker's environment and processes are out of sight", async () => {
        const secret = `worker-env-${randomBytes(8).toString("hex")}`;
        process.env.HANGAR_TEST_WORKER_SECRET = secret;
        try {
          const { spec, output } = job(
            `cat /proc/${process.pid}/environ; for p in /proc/[0-9]*; do cat $p/environ $p/cmdline; done; echo end`,
          );
          await executor.run(spec);
          // stdout and stderr come through separate pipes: "end" is printed, not always last.
          assert.match(output(), /end\n/);
          assert.doesNotMatch(output(), new RegExp(secret));
        } finally {
          delete process.env.HANGAR_TEST_WORKER_SECRET;
        }
      });

      test("runs as the sandbox user, with the system read-only", async () => {
        const { spec, output } = job("id -u; id -g; touch /etc/hangar-probe 2>/dev/null || echo read-only");
        assert.deepEqual(await executor.run(spec), { kind: "exited", code: 0 });
        assert.equal(output(), `${sandbox.uid}\n${sandbox.gid}\nread-only\n`);
      });

      test("the job cannot rewrite the worker's files at the top of its directory", async () => {
        const { spec, output } = job(
          'echo 1 > "$JOB_DIR/owner.pid"; rm -f "$JOB_DIR/owner.pid"; echo x > "$JOB_DIR/added"; echo end',
        );
        const owner = join(spec.jobDir, "owner.pid");
        writeFileSync(owner, String(process.pid));
        await executor.run({ ...spec, env: { ...spec.env, JOB_DIR: spec.jobDir } });
        // stdout and stderr come through separate pipes: "end" is printed, not always last.
        assert.match(output(), /end\n/);
        assert.equal(readFileSync(owner, "utf8"), String(process.pid));
        assert.equal(existsSync(join(spec.jobDir, "added")), false);
      });

      describe("network", () => {
        let greeter: TcpGreeter;
        before(async () => {
          greeter = await TcpGreeter.start(`hello-${randomBytes(6).toString("hex")}`);
        });
        after(() => greeter.close());
        const reach = (host: string) => `busybox nc -w 3 ${host} ${greeter.port} </dev/null; echo "nc=$?"`;

        test("an untrusted job reaches nothing of the host, not even its loopback", async () => {
          const { spec, output } = job(`${reach("127.0.0.1")}; ${reach(hostAddress())}`);
          assert.deepEqual(await executor.run(spec), { kind: "exited", code: 0 });
          assert.doesNotMatch(output(), new RegExp(greeter.greeting));
          assert.equal(output().match(/nc=[1-9]/g)?.length, 2, output());
        });

        test("a job with network reaches the host", async () => {
          const { spec, output } = job(reach(hostAddress()), { network: true });
          assert.deepEqual(await executor.run(spec), { kind: "exited", code: 0 });
          assert.match(output(), new RegExp(`${greeter.greeting}\nnc=0`));
        });
      });

      test("a setsid child is gone after the job ends", async () => {
        const token = String(randomInt(100_000, 999_999));
        const { spec, paths } = job(`setsid sleep ${token} >/dev/null 2>&1 & echo started`);
        assert.deepEqual(await executor.run(spec), { kind: "exited", code: 0 });
        await assertNothingLeft(token, paths.checkout);
      });

      test("a fork bomb is contained: the worker stays up and the next job runs", async () => {
        const bomb = job("bomb() { bomb | bomb & }; bomb; while :; do sleep 1; done", { timeoutMs: 8000 });
        const running = executor.run(bomb.spec);
        await waitUntil("the bomb to hit the process limit", () =>
          /cannot fork|can't fork|resource temporarily unavailable/i.test(bomb.output()),
        );
        const { stdout } = await run("sh", ["-c", "echo the worker can still fork"]);
        assert.equal(stdout, "the worker can still fork\n");
        assert.deepEqual(await running, { kind: "timeout" });
        const next = job("echo next job");
        assert.deepEqual(await executor.run(next.spec), { kind: "exited", code: 0 });
        assert.equal(next.output(), "next job\n");
      });

      test("the disk cap stops a job that writes past it", async () => {
        const { spec, output } = job(
          'i=0; while [ $i -lt 20 ]; do dd if=/dev/zero of="$HOME/f$i" bs=1M count=8 2>/dev/null; i=$((i+1)); done; sleep 60',
        );
        const outcome = await executor.run(spec);
        const limit = `the job wrote more than ${TEST_LIMITS.diskMiB} MiB`;
        assert.deepEqual(outcome, { kind: "signalled", signal: "SIGKILL", limit });
        assert.match(output(), new RegExp(`Stopped: ${limit}`));
      });

      test("no single file outgrows the disk cap", async () => {
        const { spec, paths } = job('dd if=/dev/zero of="$HOME/big" bs=1M count=100 2>/dev/null; echo done');
        await executor.run(spec);
        const size = statSync(join(paths.home, "big")).size;
        assert.ok(size <= TEST_LIMITS.diskMiB * 1024 * 1024, `a ${size}-byte file`);
      });

      test("the memory limit kills a job that passes it", async () => {
        const { spec, output } = job("head -c 400000000 /dev/zero | tail -n 1 >/dev/null");
        const outcome = await executor.run(spec);
        assert.equal(outcome.kind, "signalled", output());
        assert.equal(outcome.kind === "signalled" && outcome.signal, "SIGKILL");
        assert.match(output(), new RegExp(`memory limit of ${TEST_LIMITS.memoryMiB} MiB`));
        if (target.namesMemoryKills) {
          const limit = `the job reached its memory limit of ${TEST_LIMITS.memoryMiB} MiB and was killed`;
          assert.equal(outcome.kind === "signalled" && outcome.limit, limit);
        }
      });

      test("/dev/kvm reaches only a job that needs it", {
        skip: !existsSync("/dev/kvm") && "no /dev/kvm",
      }, async () => {
        const withKvm = job("exec 3<>/dev/kvm && echo opened-kvm", { capabilities: ["kvm"] });
        assert.deepEqual(await executor.run(withKvm.spec), { kind: "exited", code: 0 });
        assert.equal(withKvm.output(), "opened-kvm\n");
        const without = job("test -e /dev/kvm || echo no-kvm");
        assert.deepEqual(await executor.run(without.spec), { kind: "exited", code: 0 });
        assert.equal(without.output(), "no-kvm\n");
      });
    });

    describe("through runJob", () => {
      let store: Store;
      let sha: string;
      const statuses: { context: string; state: string; description: string }[] = [];
      before(async () => {
        store = await openStore({ driver: "fs", dir: join(dir, "store"), publicUrl: "http://127.0.0.1:9/" });
        sha = await demoRepository(join(dir, "repos"), target.base?.image);
      });
      after(() => store?.close());

      async function runDemo(context: string, extra: Partial<Job> = {}) {
        const job: Job = { repo: "acme/demo", sha, context, slug: `demo-${context}`, ...extra };
        const final = await runJob(
          job,
          {
            forge: recordingForge(statuses),
            store,
            executor,
            logger: silentLogger(),
            worker: "w1",
            workDir,
            cloneBase: join(dir, "repos"),
            secrets: { alpha: "sekrit-alpha", beta: "sekrit-beta" },
            defaultTimeout: 10,
          },
          new AbortController().signal,
        );
        const log = (await store.get(`demo-${context}/log`))?.toString() ?? "";
        return { final, log, posted: statuses.filter((s) => s.context === context) };
      }

      test("success: statuses, log, attachments uploaded, only the named secrets", async () => {
        const { final, log, posted } = await runDemo("ok", { secrets: ["alpha", "not-on-this-worker"] });
        assert.deepEqual(final, { state: "success", description: "Success [w1]" });
        assert.deepEqual(
          posted.map((s) => [s.state, s.description]),
          [
            ["pending", "In progress [w1]"],
            ["success", "Success [w1]"],
          ],
        );
        assert.match(log, /context=ok/);
        assert.match(log, /secrets=\[alpha \]/);
        assert.equal((await store.get("demo-ok/attachments/result.txt"))?.toString(), "attached\n");
      });

      test("failure: exit code in the status; a job naming no secret sees none", async () => {
        const { final, log } = await runDemo("fail");
        assert.deepEqual(final, { state: "failure", description: "Failed (exit code 4) [w1]" });
        assert.match(log, /secrets=\[\]/);
        assert.doesNotMatch(log, /sekrit/);
      });

      test("a job that cannot start is an internal error, not a test failure", async () => {
        const { final, log } = await runDemo("broken", target.unstartableJob);
        assert.deepEqual(final, { state: "error", description: "Internal error" });
        assert.match(log, /Could not start/);
        assert.deepEqual(await target.leftovers(), []);
      });
    });
  });
}
