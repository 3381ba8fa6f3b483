/** The executor hangar.yaml asks for (`worker.executor`). */
import { ConfigError, type LoadedConfig } from "../config/index.js";
import type { Executor } from "./executor.js";
import { ProcessExecutor } from "./process-executor.js";

export function createExecutor(loaded: LoadedConfig): Executor {
  switch (loaded.config.worker.executor) {
    case "process":
      return new ProcessExecutor();
    case "container":
      throw new ConfigError(loaded.source, [
        "worker.executor: container is not supported by this build; use process",
      ]);
  }
}
