/** The executor hangar.yaml asks for (`worker.executor`). */
import type { LoadedConfig } from "../config/index.js";
import type { Logger } from "../util/logger.js";
import { ContainerExecutor } from "./container-executor.js";
import type { Executor } from "./executor.js";
import { ProcessExecutor } from "./process-executor.js";

export function createExecutor(loaded: LoadedConfig, logger?: Logger): Executor {
  const { worker } = loaded.config;
  switch (worker.executor) {
    case "process":
      return new ProcessExecutor();
    case "container":
      return new ContainerExecutor({
        command: worker.container.command,
        runArgs: worker.container.runArgs,
        ...(worker.container.defaultImage ? { defaultImage: worker.container.defaultImage } : {}),
        ...(logger ? { logger } : {}),
      });
  }
}
