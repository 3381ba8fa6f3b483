/** Structured logs (pino). Parts take a Logger and scope it with child({ ... }). */
import { type Logger as PinoLogger, pino } from "pino";

export type Logger = PinoLogger;

export interface LoggerOptions {
  readonly level?: string;
  /** Where lines go; stderr by default so command output stays clean on stdout. */
  readonly destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stderr;
  return pino(
    {
      level: options.level ?? "info",
      base: null,
      // A token or secret must never reach a log line, even by accident in an error object.
      redact: { paths: ["token", "secret", "*.token", "*.secret", "headers.authorization"], censor: "***" },
    },
    destination as pino.DestinationStream,
  );
}

/** A logger that drops everything, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
