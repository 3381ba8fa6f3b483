/** How the CLI reports errors: one clear line (or a list for config problems), exit code 1 or 2. */
import { ConfigError, SecretError } from "../config/index.js";
import { errorMessage } from "../util/errors.js";

/** A user error: bad arguments or input. The message says what to do. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function exitWithError(error: unknown): never {
  if (error instanceof ConfigError || error instanceof SecretError || error instanceof UsageError) {
    process.stderr.write(`hangar: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`hangar: ${errorMessage(error)}\n`);
  if (process.env.HANGAR_DEBUG && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
  process.exit(1);
}
