/**
 * Where the key that signs task entries (signing.ts) comes from: queue.signingKey;
 * else, with the SQLite queue, a random key in a file next to the queue database,
 * made on first use, so every process on that machine shares it with no setting;
 * else (AMQP without a key) none: scan publishes unsigned and every entry runs untrusted.
 */
import { randomBytes } from "node:crypto";
import { linkSync, lstatSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ConfigError, configPath, type LoadedConfig, resolveSecret } from "../config/index.js";

export const SIGNING_KEY_FILE = "hangar-signing.key";
/** Shorter keys are refused: the HMAC is only as strong as its key. */
export const MIN_SIGNING_KEY_LENGTH = 16;

export interface SigningKey {
  readonly key?: string;
  /** Where it came from: the configuration, the file next to the queue database, or nowhere. */
  readonly source: "config" | "file" | "none";
  readonly file?: string;
}

/** The key file of a SQLite queue; undefined for AMQP. */
export function signingKeyFile(loaded: LoadedConfig): string | undefined {
  const { queue } = loaded.config;
  return queue.driver === "sqlite"
    ? join(dirname(configPath(loaded, queue.sqlite.path)), SIGNING_KEY_FILE)
    : undefined;
}

function readKeyFile(path: string): string {
  const info = lstatSync(path);
  if (!info.isFile()) throw new Error(`signing key ${path} is not a regular file`);
  const key = readFileSync(path, "utf8").trim();
  if (key.length < MIN_SIGNING_KEY_LENGTH) throw new Error(`signing key file ${path} is empty or too short`);
  return key;
}

/**
 * The key in path, made (mode 0600) if there is none. Several processes
 * starting at once agree on one key: each writes its own candidate and links
 * it into place, and whoever loses the race reads the winner's.
 */
export function readOrCreateKeyFile(path: string): string {
  try {
    return readKeyFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const candidate = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(candidate, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  try {
    linkSync(candidate, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    unlinkSync(candidate);
  }
  return readKeyFile(path);
}

/** The signing key this configuration gives scan and workers. */
export function loadSigningKey(
  loaded: LoadedConfig,
  env: Readonly<Record<string, string | undefined>>,
): SigningKey {
  const ref = loaded.config.queue.signingKey;
  if (ref !== undefined) {
    const key = resolveSecret(ref, "queue.signingKey", { env, baseDir: loaded.baseDir });
    if (key.length < MIN_SIGNING_KEY_LENGTH) {
      throw new ConfigError(loaded.source, [
        `queue.signingKey: too short; use at least ${MIN_SIGNING_KEY_LENGTH} characters, e.g. from \`hangar secrets generate\``,
      ]);
    }
    return { key, source: "config" };
  }
  const file = signingKeyFile(loaded);
  if (file === undefined) return { source: "none" };
  return { key: readOrCreateKeyFile(file), source: "file", file };
}
