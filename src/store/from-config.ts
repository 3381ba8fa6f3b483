/** The store backend hangar.yaml asks for (`store.driver`), opened with its settings. */
import { mkdir } from "node:fs/promises";
import { ConfigError, configPath, type LoadedConfig } from "../config/index.js";
import { openStore } from "./index.js";
import type { Store } from "./types.js";

export async function openConfiguredStore(
  loaded: LoadedConfig,
  _env: Readonly<Record<string, string | undefined>>,
  publicUrl: string,
): Promise<Store> {
  const { config } = loaded;
  switch (config.store.driver) {
    case "fs": {
      const dir = configPath(loaded, config.store.fs.dir);
      await mkdir(dir, { recursive: true });
      return openStore({ driver: "fs", dir, publicUrl });
    }
    case "s3":
      throw new ConfigError(loaded.source, ["store.driver: s3 is not supported by this build; use fs"]);
  }
}
