/**
 * The executor interface (process, container): runs a job's command in a
 * prepared checkout and reports how it ended. The runner owns everything
 * else (statuses, logs, the checkout itself).
 */

export interface ExecSpec {
  /** The command, as an argument array: never a shell string. */
  readonly argv: readonly string[];
  /** The checkout, the command's working directory. */
  readonly checkout: string;
  /** Directory whose contents are uploaded when the job ends (TEST_ATTACHMENTS). */
  readonly attachments: string;
  /** Environment for the command, on top of a minimal base. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * The job's own directory (checkout, attachments, home, tmp, secrets all live inside):
   * the only writable part of the host a sandboxed job sees.
   */
  readonly jobDir: string;
  /**
   * Whether the code is trusted (a signed entry for a trusted author): only then does the job
   * see worker.sandbox.trustedPaths. Absent means untrusted.
   */
  readonly trusted?: boolean;
  /** Whether the job may use the host's network; false gives it a loopback of its own. */
  readonly network: boolean;
  /** Directory with one file per secret this job may see (named as the secret), if any. */
  readonly secretsDir?: string;
  /** Container image, for executors that use one. */
  readonly image?: string;
  /** Capabilities the job needs (`kvm`: the job gets /dev/kvm, which it sees only then). */
  readonly capabilities?: readonly string[];
  readonly timeoutMs: number;
  /** Aborted when the job must stop (cancel, superseded, shutdown). */
  readonly signal: AbortSignal;
  /** Called once the command runs, with the id of its process group (for reaping after a worker crash). */
  readonly onStarted?: (processGroup: number) => void;
  /** Called with each chunk of combined stdout/stderr, as it comes. */
  readonly onOutput: (chunk: Buffer) => void;
}

/**
 * How a job ended. `limit`, when set, names the sandbox limit the job ran into (disk,
 * memory, processes), e.g. "the job wrote more than 20480 MiB": worth showing as its reason.
 */
export type ExecOutcome =
  | { readonly kind: "exited"; readonly code: number; readonly limit?: string }
  | { readonly kind: "signalled"; readonly signal: string; readonly limit?: string }
  | { readonly kind: "timeout" }
  | { readonly kind: "cancelled" }
  /** The executor could not start the command at all (an infrastructure error). */
  | { readonly kind: "not-started"; readonly reason: string };

export interface Executor {
  readonly name: "process" | "container";
  run(spec: ExecSpec): Promise<ExecOutcome>;
}
