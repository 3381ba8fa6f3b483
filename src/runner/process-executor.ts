/**
 * Runs a job's command as a subprocess in its own process group, so a timeout
 * or cancel kills everything the job started, not only its first process.
 */
import { spawn } from "node:child_process";
import type { ExecOutcome, ExecSpec, Executor } from "./executor.js";

/** Between SIGTERM and SIGKILL: time for the job to clean up after itself. */
const KILL_GRACE_MS = 5000;
/** After the main process exited, how long leftover output may still drain. */
const DRAIN_MS = 2000;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export class ProcessExecutor implements Executor {
  readonly name = "process";

  run(spec: ExecSpec): Promise<ExecOutcome> {
    const [command, ...args] = spec.argv;
    if (command === undefined) return Promise.resolve({ kind: "not-started", reason: "empty command" });
    const env = { ...spec.env, ...(spec.secretsDir ? { HANGAR_SECRETS_DIR: spec.secretsDir } : {}) };
    return new Promise((resolve) => {
      const child = spawn(command, args, {
        cwd: spec.checkout,
        env,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      if (child.pid !== undefined) spec.onStarted?.(child.pid);
      let stopping: "timeout" | "cancelled" | undefined;
      let killTimer: NodeJS.Timeout | undefined;

      const stop = (why: "timeout" | "cancelled") => {
        if (stopping || child.pid === undefined) return;
        stopping = why;
        signalGroup(child.pid, "SIGTERM");
        killTimer = setTimeout(
          () => child.pid !== undefined && signalGroup(child.pid, "SIGKILL"),
          KILL_GRACE_MS,
        );
      };
      const timeout = setTimeout(() => stop("timeout"), spec.timeoutMs);
      const onAbort = () => stop("cancelled");
      spec.signal.addEventListener("abort", onAbort, { once: true });
      if (spec.signal.aborted) onAbort();

      child.stdout.on("data", spec.onOutput);
      child.stderr.on("data", spec.onOutput);

      const finish = (outcome: ExecOutcome) => {
        clearTimeout(timeout);
        clearTimeout(killTimer);
        spec.signal.removeEventListener("abort", onAbort);
        resolve(outcome);
      };
      child.on("error", (error) => finish({ kind: "not-started", reason: error.message }));
      child.on("exit", (code, signal) => {
        // Whatever the job left running in the background goes with it.
        if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
        const outcome: ExecOutcome = stopping
          ? { kind: stopping }
          : code !== null
            ? { kind: "exited", code }
            : { kind: "signalled", signal: signal ?? "unknown" };
        // Let buffered output arrive, but don't wait forever on a pipe a stray process holds.
        const drained = setTimeout(() => finish(outcome), DRAIN_MS);
        child.on("close", () => {
          clearTimeout(drained);
          finish(outcome);
        });
      });
    });
  }
}
