/**
 * Watching one job's process (sandboxed or not): output as it comes, the
 * timeout and cancel, and the whole process group killed when it ends, so
 * nothing the job started outlives it.
 */
import type { ChildProcess } from "node:child_process";
import type { ExecSpec } from "../executor.js";

/** Between SIGTERM and SIGKILL: time for the job to clean up after itself. */
const KILL_GRACE_MS = 5000;
/** After the main process exited, how long leftover output may still drain. */
const DRAIN_MS = 2000;

/** Why the worker stopped a job: its timeout, a cancel, or a limit of the sandbox. */
export type StopReason = "timeout" | "cancelled" | "limit";

export type ProcessEnd =
  | { readonly kind: "exit"; readonly code: number | null; readonly signal: NodeJS.Signals | null }
  | { readonly kind: "stopped"; readonly why: StopReason }
  | { readonly kind: "error"; readonly message: string };

export interface Supervised {
  readonly ended: Promise<ProcessEnd>;
  stop(why: StopReason): void;
}

export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** child must have been spawned detached (its own process group) with stdout and stderr piped. */
export function supervise(child: ChildProcess, spec: ExecSpec): Supervised {
  if (child.pid !== undefined) spec.onStarted?.(child.pid);
  let stopping: StopReason | undefined;
  let killTimer: NodeJS.Timeout | undefined;

  const stop = (why: StopReason) => {
    if (stopping || child.pid === undefined) return;
    stopping = why;
    signalGroup(child.pid, "SIGTERM");
    killTimer = setTimeout(() => child.pid !== undefined && signalGroup(child.pid, "SIGKILL"), KILL_GRACE_MS);
  };
  const timeout = setTimeout(() => stop("timeout"), spec.timeoutMs);
  const onAbort = () => stop("cancelled");
  spec.signal.addEventListener("abort", onAbort, { once: true });
  if (spec.signal.aborted) onAbort();

  child.stdout?.on("data", spec.onOutput);
  child.stderr?.on("data", spec.onOutput);

  const ended = new Promise<ProcessEnd>((resolve) => {
    let finished = false;
    const finish = (end: ProcessEnd) => {
      if (finished) return;
      finished = true;
      clearTimeout(timeout);
      clearTimeout(killTimer);
      spec.signal.removeEventListener("abort", onAbort);
      resolve(end);
    };
    child.on("error", (error) => finish({ kind: "error", message: error.message }));
    child.on("exit", (code, signal) => {
      // Whatever the job left running in the background goes with it.
      if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
      const end: ProcessEnd = stopping ? { kind: "stopped", why: stopping } : { kind: "exit", code, signal };
      // Let buffered output arrive, but don't wait forever on a pipe a stray process holds.
      const drained = setTimeout(() => finish(end), DRAIN_MS);
      child.on("close", () => {
        clearTimeout(drained);
        finish(end);
      });
    });
  });
  return { ended, stop };
}
