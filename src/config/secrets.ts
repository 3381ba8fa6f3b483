/**
 * Secrets are named in the config as a literal, `{file: PATH}` or `{env: NAME}`.
 * Errors name the config key and where the secret was looked for, never its value.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { SecretRef } from "./schema.js";

export class SecretError extends Error {
  override readonly name = "SecretError";
}

export interface SecretContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly baseDir: string;
}

export function resolveSecret(ref: SecretRef, key: string, context: SecretContext): string {
  if (typeof ref === "string") return ref;
  if ("env" in ref) {
    const value = context.env[ref.env];
    if (value === undefined || value === "") {
      throw new SecretError(
        `${key}: environment variable ${ref.env} is not set; set it or point ${key} elsewhere`,
      );
    }
    return value;
  }
  const path = isAbsolute(ref.file) ? ref.file : resolve(context.baseDir, ref.file);
  let value: string;
  try {
    value = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new SecretError(`${key}: cannot read secret file ${path} (${code})`);
  }
  // Files written by editors and `echo` end in a newline that is not part of the secret.
  value = value.replace(/\r?\n$/, "");
  if (value === "") throw new SecretError(`${key}: secret file ${path} is empty`);
  return value;
}

export function resolveOptionalSecret(
  ref: SecretRef | undefined,
  key: string,
  context: SecretContext,
): string | undefined {
  return ref === undefined ? undefined : resolveSecret(ref, key, context);
}
