/**
 * Runs a job's command in a podman (or docker) container: `--init` so the
 * job's processes are reaped, the job's directory bind-mounted at its host
 * path (so TEST_ATTACHMENTS and HOME mean the same inside and out), the job's
 * secrets read-only. With the sandbox (the default) the container runs as the
 * sandbox user with the limits of sandbox/podman-args.ts; without it
 * (`worker.sandbox.mode: none`), as root with the checkout, attachments and
 * home mounted. The container is removed in every outcome; one that was
 * never created is `not-started` (an internal error).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { hostname, constants as osConstants, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { errorMessage } from "../util/errors.js";
import { type Logger, silentLogger } from "../util/logger.js";
import { isProcessAlive } from "../util/process.js";
import type { ExecOutcome, ExecSpec, Executor } from "./executor.js";
import { watchDiskUsage } from "./sandbox/disk-watch.js";
import { KVM_DEVICE } from "./sandbox/host-view.js";
import { handOverJobDir } from "./sandbox/job-dir.js";
import { CONTAINER_SECRETS_DIR, podmanSandboxArgs } from "./sandbox/podman-args.js";
import { mebibytes, type SandboxSettings } from "./sandbox/settings.js";

const run = promisify(execFile);

export { CONTAINER_SECRETS_DIR };
export const NAME_PREFIX = "hangar-job-";
const HOST_LABEL = "hangar.owner-host";
/** After the container is removed, how long the client may take to notice before it is killed. */
const CLIENT_GRACE_MS = 10_000;
const DRAIN_MS = 2000;
/** Variables that describe the host, not the job: the image's own values apply inside. */
const HOST_ONLY_ENV = new Set(["PATH"]);
/** podman's exit code when the container's main process was killed by SIGKILL (e.g. out of memory). */
const SIGKILL_EXIT = 137;

export interface ContainerExecutorOptions {
  /** The container command, e.g. ["podman"] or ["sudo", "docker"]. */
  readonly command: readonly string[];
  /** Extra `run` arguments for this host (runtime, ulimits, --pull=never, ...). */
  readonly runArgs: readonly string[];
  /** The image when neither the job nor the repository names one. */
  readonly defaultImage?: string;
  /** Absent: the container runs as root with no limits (`worker.sandbox.mode: none`). */
  readonly sandbox?: SandboxSettings;
  readonly logger?: Logger;
}

function signalName(code: number): string | undefined {
  const number = code - 128;
  if (number <= 0 || number > 64) return undefined;
  return Object.entries(osConstants.signals).find(([, value]) => value === number)?.[0];
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

export class ContainerExecutor implements Executor {
  readonly name = "container";
  private readonly logger: Logger;
  private reaped: Promise<void> | undefined;

  constructor(private readonly options: ContainerExecutorOptions) {
    this.logger = options.logger ?? silentLogger();
  }

  private cli(args: readonly string[]): { file: string; args: string[] } {
    const [file, ...prefix] = this.options.command;
    return { file: file ?? "podman", args: [...prefix, ...args] };
  }

  /** Remove a container at once, whatever state it is in; a missing one is fine. */
  async remove(name: string): Promise<void> {
    const { file, args } = this.cli(["rm", "--force", "--time=0", name]);
    try {
      await run(file, args, { timeout: 60_000 });
    } catch (error) {
      const stderr = String((error as { stderr?: string }).stderr ?? "");
      if (!/no such container|no container with name or id/i.test(stderr)) {
        this.logger.warn(
          { container: name, err: stderr.trim() || errorMessage(error) },
          "cannot remove container",
        );
      }
    }
  }

  /** Containers of workers on this host that died without removing them (SIGKILL, power loss). */
  async reapOrphans(): Promise<string[]> {
    const { file, args } = this.cli([
      "ps",
      "--all",
      "--filter",
      `label=${HOST_LABEL}=${hostname()}`,
      "--format",
      "{{.Names}}",
    ]);
    let stdout: string;
    try {
      stdout = (await run(file, args, { timeout: 60_000 })).stdout;
    } catch (error) {
      this.logger.warn({ err: errorMessage(error) }, "cannot list containers to reap");
      return [];
    }
    const orphans = stdout
      .split("\n")
      .map((line) => line.trim())
      .filter((name) => {
        const owner = /^hangar-job-(\d+)-/.exec(name)?.[1];
        return owner !== undefined && Number(owner) !== process.pid && !isProcessAlive(Number(owner));
      });
    for (const name of orphans) {
      await this.remove(name);
      this.logger.warn({ container: name }, "removed a container left behind by a dead worker");
    }
    return orphans;
  }

  /** Mounts and limits: the sandbox's, or (unsandboxed) the job's directories and secrets as root. */
  private containment(spec: ExecSpec): string[] {
    const kvm = spec.capabilities?.includes("kvm") === true;
    const { sandbox } = this.options;
    if (sandbox) {
      const kvmGroup = kvm && existsSync(KVM_DEVICE) ? statSync(KVM_DEVICE).gid : 0;
      return podmanSandboxArgs(spec, sandbox, { kvm, kvmGroup });
    }
    const mounts = [spec.checkout, spec.attachments];
    const home = spec.env.HOME;
    if (home && isDirectory(home) && !mounts.includes(home)) mounts.push(home);
    return [
      ...mounts.flatMap((path) => ["--volume", `${path}:${path}`]),
      ...(spec.secretsDir ? ["--volume", `${spec.secretsDir}:${CONTAINER_SECRETS_DIR}:ro`] : []),
      ...(kvm ? ["--device=/dev/kvm"] : []),
    ];
  }

  private runArgs(spec: ExecSpec, image: string, name: string, cidfile: string): string[] {
    const env = Object.entries(spec.env).filter(([key]) => !HOST_ONLY_ENV.has(key));
    if (spec.secretsDir) env.push(["HANGAR_SECRETS_DIR", CONTAINER_SECRETS_DIR]);
    return [
      "run",
      "--init",
      "--cidfile",
      cidfile,
      "--name",
      name,
      "--label",
      `${HOST_LABEL}=${hostname()}`,
      ...this.options.runArgs,
      // After the operator's runArgs: podman takes the last of a repeated flag, so the sandbox's win.
      ...this.containment(spec),
      ...env.flatMap(([key, value]) => ["--env", `${key}=${value}`]),
      "--workdir",
      spec.checkout,
      image,
      ...spec.argv,
    ];
  }

  async run(spec: ExecSpec): Promise<ExecOutcome> {
    const image = spec.image ?? this.options.defaultImage;
    if (image === undefined) {
      return {
        kind: "not-started",
        reason:
          "no container image: the job names none, the repository has no .hangar/container and worker.container.defaultImage is not set",
      };
    }
    if (spec.argv.length === 0) return { kind: "not-started", reason: "empty command" };
    this.reaped ??= this.reapOrphans().then(() => undefined);
    await this.reaped;
    if (this.options.sandbox) {
      try {
        await handOverJobDir(spec.jobDir, this.options.sandbox, spec.secretsDir);
      } catch (error) {
        return { kind: "not-started", reason: `cannot prepare the job sandbox: ${errorMessage(error)}` };
      }
    }
    const name = `${NAME_PREFIX}${process.pid}-${randomBytes(6).toString("hex")}`;
    const stateDir = await mkdtemp(join(tmpdir(), "hangar-cid-"));
    const cidfile = join(stateDir, "cid");
    try {
      const outcome = await this.runContainer(spec, this.runArgs(spec, image, name, cidfile), cidfile);
      return outcome;
    } finally {
      await this.remove(name);
      await rm(stateDir, { recursive: true, force: true });
    }
  }

  private runContainer(spec: ExecSpec, runArgs: string[], cidfile: string): Promise<ExecOutcome> {
    const { file, args } = this.cli(runArgs);
    const name = runArgs[runArgs.indexOf("--name") + 1] as string;
    return new Promise((resolve) => {
      // The client keeps the worker's environment: podman finds its storage through HOME and XDG_*.
      // In the cid file's directory: conmon drops files (an "oom" marker) into its working directory.
      const child = spawn(file, args, {
        cwd: dirname(cidfile),
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      if (child.pid !== undefined) spec.onStarted?.(child.pid);
      let stopping: "timeout" | "cancelled" | "limit" | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      let stderrTail = "";

      const stop = (why: "timeout" | "cancelled" | "limit") => {
        if (stopping) return;
        stopping = why;
        void this.remove(name);
        // A container still being created escapes `rm`; the client's death stops it, and the final rm takes it.
        killTimer = setTimeout(() => killGroup(child, "SIGKILL"), CLIENT_GRACE_MS);
      };
      const timeout = setTimeout(() => stop("timeout"), spec.timeoutMs);
      const onAbort = () => stop("cancelled");
      spec.signal.addEventListener("abort", onAbort, { once: true });
      if (spec.signal.aborted) onAbort();
      const disk = this.watchDisk(spec, () => stop("limit"));

      child.stdout.on("data", spec.onOutput);
      child.stderr.on("data", (chunk: Buffer) => {
        stderrTail = (stderrTail + chunk.toString("utf8")).slice(-2048);
        spec.onOutput(chunk);
      });

      let finished = false;
      const finish = (outcome: ExecOutcome) => {
        if (finished) return;
        finished = true;
        clearTimeout(timeout);
        clearTimeout(killTimer);
        disk?.stop();
        spec.signal.removeEventListener("abort", onAbort);
        resolve(outcome);
      };
      child.on("error", (error) => finish({ kind: "not-started", reason: `${file}: ${error.message}` }));
      child.on("exit", (code, signal) => {
        const settle = async () => {
          const created = await readFile(cidfile, "utf8").then(
            (cid) => cid.trim().length > 0,
            () => false,
          );
          if (stopping === "limit")
            return finish({ kind: "signalled", signal: "SIGKILL", limit: this.diskLimit() });
          if (stopping) return finish({ kind: stopping });
          if (!created) {
            const reason = stderrTail.trim().split("\n").at(-1) || `${file} exited with ${code ?? signal}`;
            return finish({ kind: "not-started", reason: `the container was not created: ${reason}` });
          }
          if (code === null) return finish({ kind: "signalled", signal: signal ?? "unknown" });
          const killedBy = signalName(code);
          if (code === SIGKILL_EXIT) this.noteMemoryLimit(spec);
          finish(killedBy ? { kind: "signalled", signal: killedBy } : { kind: "exited", code });
        };
        const drained = setTimeout(() => void settle(), DRAIN_MS);
        child.on("close", () => {
          clearTimeout(drained);
          void settle();
        });
      });
    });
  }

  private diskLimit(): string {
    return `the job wrote more than ${this.options.sandbox?.diskMiB} MiB`;
  }

  /** The sandbox's disk cap on the job directory; calls stop once it is passed. */
  private watchDisk(spec: ExecSpec, stop: () => void): { stop(): void } | undefined {
    const { sandbox } = this.options;
    if (!sandbox) return undefined;
    return watchDiskUsage(spec.jobDir, mebibytes(sandbox.diskMiB), () => {
      spec.onOutput(Buffer.from(`\n*** Stopped: ${this.diskLimit()} (worker.sandbox.diskMiB)\n`));
      stop();
    });
  }

  /**
   * A SIGKILL may be the memory limit's: say so in the log. podman cannot tell (its OOMKilled
   * covers only the container's first process, here --init), so the outcome names no limit.
   */
  private noteMemoryLimit(spec: ExecSpec): void {
    const { sandbox } = this.options;
    if (!sandbox) return;
    spec.onOutput(
      Buffer.from(
        `\n*** Sandbox: killed by SIGKILL; unless the job did this itself, it may have passed its memory limit of ${sandbox.memoryMiB} MiB (worker.sandbox.memoryMiB)\n`,
      ),
    );
  }
}
