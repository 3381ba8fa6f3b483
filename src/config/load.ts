/** Reading hangar.yaml: YAML errors with line numbers, schema errors with the key's path. */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { configSchema, type HangarConfig } from "./schema.js";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** A loaded configuration, with the directory its relative paths are relative to. */
export interface LoadedConfig {
  readonly config: HangarConfig;
  readonly baseDir: string;
  readonly source: string;
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join(".") || "(top level)";
    return `${path}: ${issue.message}`;
  });
}

/** Validate an already-parsed object (from YAML, or built by `hangar local`). */
export function parseConfig(value: unknown, source: string, baseDir: string): LoadedConfig {
  const result = configSchema.safeParse(value ?? {});
  if (!result.success) throw new ConfigError(source, formatIssues(result.error.issues));
  return { config: result.data, baseDir, source };
}

export function parseConfigText(text: string, source: string, baseDir: string): LoadedConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => e.message.split("\n")[0] ?? e.message),
    );
  }
  return parseConfig(doc.toJS(), source, baseDir);
}

export function loadConfigFile(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? error}`]);
  }
  return parseConfigText(text, path, dirname(resolve(path)));
}

/** A path from the config, relative to the config file's directory. */
export function configPath(loaded: LoadedConfig, path: string): string {
  return isAbsolute(path) ? path : resolve(loaded.baseDir, path);
}
