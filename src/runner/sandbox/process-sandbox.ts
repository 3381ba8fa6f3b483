/**
 * A job of the process executor in its sandbox: hand the job directory to the
 * sandbox user, plan what the job sees, put it in its own cgroups, launch it
 * through bubblewrap (launch.ts), stop it past the disk cap, and clean up.
 */
import { spawn } from "node:child_process";
import { constants as osConstants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { errorMessage } from "../../util/errors.js";
import { type Logger, silentLogger } from "../../util/logger.js";
import type { ExecOutcome, ExecSpec } from "../executor.js";
import { Cgroups, type JobCgroup, type JobLimits } from "./cgroup.js";
import { watchDiskUsage } from "./disk-watch.js";
import { type HostView, planSandbox } from "./host-view.js";
import { handOverJobDir } from "./job-dir.js";
import { ARGS_FD, LAUNCH_ENV, MISSING, STARTED, STATUS_FD, sandboxLaunch } from "./launch.js";
import { mebibytes, type SandboxSettings } from "./settings.js";
import { type ProcessEnd, supervise } from "./supervise.js";
import { missingTools } from "./tools.js";

/** Exit codes above this are "killed by signal (code - 128)", as bwrap and shells report them. */
const SIGNAL_EXIT_BASE = 128;

function signalOf(code: number): string | undefined {
  const number = code - SIGNAL_EXIT_BASE;
  if (number <= 0 || number > 64) return undefined;
  return Object.entries(osConstants.signals).find(([, value]) => value === number)?.[0];
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean)
      .at(-1) ?? ""
  );
}

function notStartedReason(status: string, argv0: string, before: string, uid: number): string {
  if (status === MISSING) return `${argv0}: no such command in the sandbox`;
  const why = lastLine(before) || "bwrap gave no reason";
  const hint = /Permission denied/.test(why)
    ? ` (the sandbox user ${uid} needs search permission on every directory above the job directory)`
    : "";
  return `the sandbox did not start: ${why}${hint}`;
}

export class ProcessSandbox {
  private readonly logger: Logger;
  private readonly settings: SandboxSettings;
  /** Whether jobs run as the sandbox user: only a worker running as root can switch to it. */
  private readonly switchUser: boolean;
  private cgroups: Promise<Cgroups | undefined> | undefined;
  private toolsFound = false;

  constructor(settings: SandboxSettings, logger?: Logger) {
    this.logger = logger ?? silentLogger();
    const uid = process.getuid?.() ?? 0;
    this.switchUser = uid === 0;
    // Not root (a developer's `hangar local`): the namespaces still hold, the uid is the worker's.
    this.settings = this.switchUser ? settings : { ...settings, uid, gid: process.getgid?.() ?? uid };
    if (!this.switchUser) {
      this.logger.warn(
        { uid, sandboxUid: settings.uid },
        "job sandbox: the worker is not root, so jobs run in their namespaces as the worker's own user, not as the sandbox user",
      );
    }
  }

  private get limits(): JobLimits {
    return { maxProcesses: this.settings.maxProcesses, memoryBytes: mebibytes(this.settings.memoryMiB) };
  }

  /** The cgroups jobs go into; probed once, and the fallback said once. */
  private jobCgroups(): Promise<Cgroups | undefined> {
    this.cgroups ??= Cgroups.probe().then((found) => {
      if (found instanceof Cgroups) return found;
      this.logger.warn(
        { reason: found.unavailable, maxProcesses: this.settings.maxProcesses },
        "job sandbox: cgroups are not writable; the process limit falls back to RLIMIT_NPROC of the sandbox user and jobs get no memory limit",
      );
      return undefined;
    });
    return this.cgroups;
  }

  async run(spec: ExecSpec): Promise<ExecOutcome> {
    if (!this.toolsFound) {
      const missing = await missingTools(this.settings.bwrap);
      if (missing) return { kind: "not-started", reason: missing };
      this.toolsFound = true;
    }
    let cgroup: JobCgroup | undefined;
    let view: HostView;
    try {
      if (this.switchUser) await handOverJobDir(spec.jobDir, this.settings, spec.secretsDir);
      const env = { ...spec.env, ...(spec.secretsDir ? { HANGAR_SECRETS_DIR: spec.secretsDir } : {}) };
      view = await planSandbox(spec, this.settings, env, this.switchUser);
      cgroup = await (await this.jobCgroups())?.create(this.limits);
    } catch (error) {
      return { kind: "not-started", reason: `cannot prepare the job sandbox: ${errorMessage(error)}` };
    }
    try {
      return await this.launch(spec, view, cgroup);
    } finally {
      if (cgroup && !(await cgroup.remove())) {
        this.logger.error({ jobDir: spec.jobDir }, "job sandbox: a job's cgroup could not be removed");
      }
    }
  }

  private async launch(spec: ExecSpec, view: HostView, cgroup: JobCgroup | undefined): Promise<ExecOutcome> {
    const launch = sandboxLaunch({
      settings: this.settings,
      view,
      argv: spec.argv,
      ...(cgroup ? { cgroup } : {}),
      switchUser: this.switchUser,
    });
    const child = spawn(launch.file, launch.args, {
      cwd: "/",
      env: LAUNCH_ENV,
      detached: true,
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
    });
    const args = child.stdio[ARGS_FD] as Writable;
    // bwrap gone before reading them (it failed to start): its exit says the rest.
    args.on("error", () => undefined);
    args.end(launch.bwrapArgs.map((arg) => `${arg}\0`).join(""));
    let status = "";
    (child.stdio[STATUS_FD] as Readable).on("data", (chunk: Buffer) => {
      status += chunk.toString("utf8");
    });
    let beforeStart = "";
    const onOutput = (chunk: Buffer) => {
      if (status === "") beforeStart = (beforeStart + chunk.toString("utf8")).slice(-2048);
      spec.onOutput(chunk);
    };
    const supervised = supervise(child, { ...spec, onOutput });
    let limit: string | undefined;
    const disk = watchDiskUsage(spec.jobDir, mebibytes(this.settings.diskMiB), () => {
      limit = `the job wrote more than ${this.settings.diskMiB} MiB`;
      spec.onOutput(Buffer.from(`\n*** Stopped: ${limit} (worker.sandbox.diskMiB)\n`));
      supervised.stop("limit");
    });
    const end = await supervised.ended;
    disk.stop();
    const notes = (await cgroup?.limitsHit(this.limits)) ?? [];
    for (const note of notes) spec.onOutput(Buffer.from(`\n*** Sandbox: ${note}\n`));
    if (!status.startsWith(STARTED) && end.kind !== "stopped") {
      const reason = notStartedReason(status, spec.argv[0] ?? "", beforeStart, this.settings.uid);
      return { kind: "not-started", reason };
    }
    return outcomeOf(end, limit ?? notes[0]);
  }
}

function outcomeOf(end: ProcessEnd, limit: string | undefined): ExecOutcome {
  const withLimit = limit ? { limit } : {};
  switch (end.kind) {
    case "error":
      return { kind: "not-started", reason: end.message };
    case "stopped":
      return end.why === "limit" ? { kind: "signalled", signal: "SIGKILL", ...withLimit } : { kind: end.why };
    case "exit": {
      if (end.code === null) return { kind: "signalled", signal: end.signal ?? "unknown", ...withLimit };
      const signal = signalOf(end.code);
      if (signal) return { kind: "signalled", signal, ...withLimit };
      return end.code === 0 ? { kind: "exited", code: 0 } : { kind: "exited", code: end.code, ...withLimit };
    }
  }
}
