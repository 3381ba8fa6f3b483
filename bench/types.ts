/** What a benchmark section is and what it reports: one row per measured configuration. */
import type { ConfigInput } from "../src/config/index.js";

export interface BenchRow {
  readonly backend: string;
  readonly section: string;
  readonly concurrency: number;
  readonly requests: number;
  /** Successful operations per second (for the webhook: 202 answers); NaN where not measured. */
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Anything off, e.g. failed requests or a queue count that does not match. */
  readonly note?: string;
}

/** A queue backend the sections run against. */
export interface BenchBackend {
  readonly name: string;
  /** Why it cannot run on this machine, or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  /** The `queue:` part of a hangar config using this backend, keeping its state under dir. */
  queueConfig(dir: string): NonNullable<ConfigInput["queue"]>;
  /** Remove state kept outside dir (e.g. queues on a shared broker) once a row is measured. */
  cleanup?(dir: string): Promise<void>;
}

export interface BenchOptions {
  /** Measured time per row. */
  readonly durationMs: number;
  /** Unmeasured time before it. */
  readonly warmupMs: number;
}

export interface BenchSection {
  readonly name: string;
  run(backend: BenchBackend, options: BenchOptions): Promise<BenchRow[]>;
}
