/** The executor hangar.yaml asks for (`worker.executor`), sandboxed as `worker.sandbox` says. */
import type { LoadedConfig } from "../config/index.js";
import { type Logger, silentLogger } from "../util/logger.js";
import { ContainerExecutor } from "./container-executor.js";
import type { Executor } from "./executor.js";
import { ProcessExecutor } from "./process-executor.js";
import { sandboxSettings } from "./sandbox/index.js";

export interface ExecutorContext {
  /** The worker's work directory: hidden from jobs, like all of hangar's state. */
  readonly workDir?: string;
}

export function createExecutor(
  loaded: LoadedConfig,
  logger?: Logger,
  context: ExecutorContext = {},
): Executor {
  const { worker } = loaded.config;
  const log = logger ?? silentLogger();
  const sandbox = sandboxSettings(loaded, context.workDir);
  if (sandbox === undefined) {
    log.warn(
      { executor: worker.executor },
      "JOBS RUN UNSANDBOXED (worker.sandbox.mode: none): a job sees this worker's files, secrets, processes and network. Never use this for untrusted pull requests.",
    );
  } else {
    log.info(
      {
        executor: worker.executor,
        uid: sandbox.uid,
        maxProcesses: sandbox.maxProcesses,
        memoryMiB: sandbox.memoryMiB,
        diskMiB: sandbox.diskMiB,
      },
      "jobs run sandboxed",
    );
  }
  switch (worker.executor) {
    case "process":
      return new ProcessExecutor({ ...(sandbox ? { sandbox } : {}), logger: log });
    case "container":
      return new ContainerExecutor({
        command: worker.container.command,
        runArgs: worker.container.runArgs,
        ...(worker.container.defaultImage ? { defaultImage: worker.container.defaultImage } : {}),
        ...(sandbox ? { sandbox } : {}),
        logger: log,
      });
  }
}
