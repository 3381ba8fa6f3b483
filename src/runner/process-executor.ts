/**
 * Runs a job's command as a subprocess in its own process group, so a timeout
 * or cancel kills everything the job started, not only its first process.
 * With a sandbox (the default), the command runs in bubblewrap as the sandbox
 * user (sandbox/process-sandbox.ts); without one (`worker.sandbox.mode: none`),
 * as the worker itself.
 */
import { spawn } from "node:child_process";
import type { Logger } from "../util/logger.js";
import type { ExecOutcome, ExecSpec, Executor } from "./executor.js";
import { ProcessSandbox } from "./sandbox/process-sandbox.js";
import type { SandboxSettings } from "./sandbox/settings.js";
import { supervise } from "./sandbox/supervise.js";

export interface ProcessExecutorOptions {
  /** Absent: jobs run unsandboxed, as the worker. */
  readonly sandbox?: SandboxSettings;
  readonly logger?: Logger;
}

export class ProcessExecutor implements Executor {
  readonly name = "process";
  private readonly sandbox: ProcessSandbox | undefined;

  constructor(options: ProcessExecutorOptions = {}) {
    this.sandbox = options.sandbox ? new ProcessSandbox(options.sandbox, options.logger) : undefined;
  }

  async run(spec: ExecSpec): Promise<ExecOutcome> {
    if (spec.argv.length === 0) return { kind: "not-started", reason: "empty command" };
    return this.sandbox ? this.sandbox.run(spec) : runUnsandboxed(spec);
  }
}

async function runUnsandboxed(spec: ExecSpec): Promise<ExecOutcome> {
  const [command, ...args] = spec.argv as [string, ...string[]];
  const env = { ...spec.env, ...(spec.secretsDir ? { HANGAR_SECRETS_DIR: spec.secretsDir } : {}) };
  const child = spawn(command, args, {
    cwd: spec.checkout,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const end = await supervise(child, spec).ended;
  switch (end.kind) {
    case "error":
      return { kind: "not-started", reason: end.message };
    case "stopped":
      return { kind: end.why === "timeout" ? "timeout" : "cancelled" };
    case "exit":
      return end.code !== null
        ? { kind: "exited", code: end.code }
        : { kind: "signalled", signal: end.signal ?? "unknown" };
  }
}
