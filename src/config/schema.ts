/**
 * The schema of hangar.yaml. Every key is documented in README.md; defaults
 * here are the embedded one-machine setup.
 */
import { CronExpressionParser } from "cron-parser";
import { z } from "zod";

function isCronExpression(text: string): boolean {
  if (text.trim().split(/\s+/).length !== 5) return false;
  try {
    CronExpressionParser.parse(text, { tz: "UTC" });
    return true;
  } catch {
    return false;
  }
}

/** A secret: a literal string, `{file: PATH}` or `{env: NAME}`. Resolved by secrets.ts. */
export const secretRefSchema = z.union([
  z.string().min(1),
  z.strictObject({ file: z.string().min(1) }),
  z.strictObject({ env: z.string().min(1) }),
]);
export type SecretRef = z.infer<typeof secretRefSchema>;

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[\w.-]+):\d{1,5}$/, "expected host:port, e.g. 127.0.0.1:8080");

const queueName = z.string().regex(/^[\w.:-]+$/, "expected a queue name of letters, digits, . _ : -");

const webhookSchema = z
  .strictObject({
    listen: hostPort.default("127.0.0.1:8080"),
    secret: secretRefSchema.optional(),
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(25 * 1024 * 1024),
    /** Connections open at once; more are closed as they arrive. */
    maxConnections: z.number().int().positive().default(2048),
    /** Request body bytes held at once across all requests; a request beyond it is answered 503 with Retry-After. */
    maxBytesInFlight: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024),
    /** A request's headers must arrive within this (slowloris). */
    headersTimeoutMs: z.number().int().positive().default(10_000),
    /** A request's body must arrive within this, once its headers did. */
    bodyTimeoutMs: z.number().int().positive().default(30_000),
    /** Slowest average body rate tolerated, after a grace of min(2 s, bodyTimeoutMs / 2). */
    minBytesPerSecond: z
      .number()
      .int()
      .nonnegative()
      .default(16 * 1024),
    /** Where deliveries wait, on disk, while the queue is unreachable; also holds the accepted-ids record. */
    spool: z
      .strictObject({
        dir: z.string().min(1).default("hangar-webhook-spool"),
        /** A publish that has not resolved by then is spooled instead (GitHub gives up after 10 s). */
        publishTimeoutMs: z.number().int().positive().default(5000),
      })
      .prefault({}),
    /** Deliveries whose X-GitHub-Delivery was accepted before are acknowledged, not queued again. */
    dedupe: z
      .strictObject({
        retentionHours: z
          .number()
          .positive()
          .default(7 * 24),
        maxEntries: z.number().int().positive().default(1_000_000),
      })
      .prefault({}),
    /** Accept deliveries without X-Hub-Signature-256. For local experiments only; logged loudly. */
    insecureNoSignature: z.boolean().default(false),
  })
  .refine((webhook) => webhook.maxBytesInFlight >= webhook.maxBodyBytes, {
    message: "maxBytesInFlight must be at least maxBodyBytes, or the largest delivery could never be taken",
    path: ["maxBytesInFlight"],
  });

const queueSchema = z.strictObject({
  driver: z.enum(["sqlite", "amqp"]).default("sqlite"),
  sqlite: z.strictObject({ path: z.string().min(1).default("hangar-queue.sqlite") }).prefault({}),
  amqp: z
    .strictObject({
      url: z.string().regex(/^amqps?:\/\//, "expected an amqp:// or amqps:// URL"),
      tls: z
        .strictObject({
          ca: secretRefSchema.optional(),
          cert: secretRefSchema.optional(),
          key: secretRefSchema.optional(),
        })
        .optional(),
    })
    .optional(),
  names: z
    .strictObject({
      webhook: queueName.default("webhook"),
      public: queueName.default("public"),
      internal: queueName.default("internal"),
      statistics: queueName.default("statistics"),
      /** Job and worker events for the recorder (hangar's own format; never Cockpit's statistics queue). */
      events: queueName.default("hangar-events"),
    })
    .prefault({}),
  /**
   * Key of the HMAC that scan puts on every task entry it queues; workers give secrets and
   * trust only to entries signed with it (see worker.unsignedEntries and docs/security.md).
   * With the SQLite queue and no key, one is made next to the database (0600) on first use.
   */
  signingKey: secretRefSchema.optional(),
});

const forgeSchema = z.strictObject({
  github: z
    .strictObject({
      api: z.url().default("https://api.github.com"),
      clone: z.string().min(1).default("https://github.com"),
      token: secretRefSchema.optional(),
      post: z.boolean().default(true),
      /** Statuses that could not be posted wait here (SQLite) and are posted later, in order. */
      outbox: z.string().min(1).default("hangar-outbox.sqlite"),
      /** Per-request timeout; a request that takes longer is retried. */
      timeoutSeconds: z.number().positive().default(30),
      /** A GitHub App instead of a token: installation tokens are minted from the private key. */
      app: z
        .strictObject({
          appId: z.union([z.number().int().positive(), z.string().regex(/^\d+$/, "expected a number")]),
          privateKey: secretRefSchema,
          /** Found per repository (GET /repos/{o}/{r}/installation) when not given. */
          installationId: z.number().int().positive().optional(),
        })
        .optional(),
    })
    .prefault({}),
  /** A Forgejo or Gitea server, for projects with `forge: forgejo`. */
  forgejo: z
    .strictObject({
      /** The API base, e.g. https://codeberg.org/api/v1 */
      api: z.url(),
      /** Clone base URL (or directory), e.g. https://codeberg.org */
      clone: z.string().min(1),
      token: secretRefSchema.optional(),
      post: z.boolean().default(true),
    })
    .optional(),
});

const storeSchema = z.strictObject({
  driver: z.enum(["fs", "s3"]).default("fs"),
  fs: z
    .strictObject({
      dir: z.string().min(1).default("hangar-store"),
      listen: hostPort.default("127.0.0.1:8081"),
    })
    .prefault({}),
  s3: z
    .strictObject({
      /** Endpoint and bucket: `https://s3.example.com/bucket` (path style) or the bucket's own URL. */
      url: z.url(),
      region: z.string().min(1).default("us-east-1"),
      accessKeyId: secretRefSchema.optional(),
      secretAccessKey: secretRefSchema.optional(),
      /** Self-hosted S3 servers want the bucket in the path, not in the host name. */
      pathStyle: z.boolean().default(true),
      acl: z.enum(["private", "public-read"]).optional(),
    })
    .optional(),
  publicUrl: z.url().optional(),
});

/** How a job is contained; `mode: none` turns the sandbox off (logged loudly at start). */
const sandboxSchema = z.strictObject({
  mode: z.enum(["bwrap", "none"]).default("bwrap"),
  /** The bubblewrap binary (process executor). */
  bwrap: z.string().min(1).default("bwrap"),
  /**
   * Host uid and gid the job's processes run as: never the worker's own, and best one no other
   * program uses (not 65534, nobody, which other daemons share). The default lies in the range
   * Debian reserves and never hands out (65000-65533).
   */
  uid: z.number().int().min(1).default(65432),
  gid: z.number().int().min(1).default(65432),
  /** Most processes (and threads) one job may have at once. */
  maxProcesses: z.number().int().positive().default(1024),
  /** Memory one job may use, in MiB. */
  memoryMiB: z.number().int().positive().default(8192),
  /** Disk one job may fill (checkout, home, tmp, attachments), in MiB; past it the job is stopped. */
  diskMiB: z.number().int().positive().default(20480),
  /** Host directories a job sees read-only (those that exist); nothing else of the host is visible. */
  systemPaths: z
    .array(z.string().regex(/^\//, "expected an absolute path"))
    .default(["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/boot"]),
  /**
   * Host directories trusted jobs may also write (shared caches, an exchange with a test
   * harness); mounted at the same path. Untrusted jobs never see them.
   */
  trustedPaths: z.array(z.string().regex(/^\//, "expected an absolute path")).default([]),
  /** Paths hidden even inside systemPaths (hangar hides its own config, secrets and state anyway). */
  hide: z.array(z.string().regex(/^\//, "expected an absolute path")).default([]),
});

const workerSchema = z.strictObject({
  name: z.string().min(1).optional(),
  queues: z.array(queueName).min(1).optional(),
  concurrency: z.number().int().min(1).max(64).default(1),
  executor: z.enum(["process", "container"]).default("process"),
  workDir: z.string().min(1).optional(),
  defaultTimeout: z.number().positive().default(120),
  capabilities: z.array(z.string().regex(/^[\w.-]+$/, "expected a capability name")).default([]),
  /** Probes that add a capability the worker does not already assert in `capabilities`. */
  probes: z
    .strictObject({
      kvm: z
        .strictObject({
          enabled: z.boolean().default(true),
          timeoutSeconds: z.number().positive().default(5),
          qemu: z.string().min(1).default("qemu-system-x86_64"),
          kernel: z.string().min(1).optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  container: z
    .strictObject({
      command: z.array(z.string().min(1)).min(1).default(["podman"]),
      runArgs: z.array(z.string()).default([]),
      defaultImage: z.string().min(1).optional(),
    })
    .prefault({}),
  imageCache: z
    .strictObject({
      dir: z.string().min(1).optional(),
      maxBytes: z
        .number()
        .int()
        .positive()
        .default(20 * 1024 ** 3),
    })
    .prefault({}),
  secrets: z
    .record(
      z.string().regex(/^[\w.-]+$/, "expected a secret name of letters, digits, . _ -"),
      secretRefSchema,
    )
    .default({}),
  /** How often a worker reports itself and its running jobs to the recorder. */
  heartbeatSeconds: z.number().positive().max(20).default(5),
  /** A running job unheard of for this long is lost and requeued; well under a minute. */
  lostAfterSeconds: z.number().positive().max(55).default(20),
  /** Automatic reruns after an infrastructure failure (not started, clone network error, worker lost). */
  retries: z.number().int().min(0).max(10).default(2),
  /** On SIGTERM, running jobs get this long to finish before they are cancelled and requeued. */
  shutdownGraceSeconds: z.number().min(0).default(25),
  /** How often a running PR job checks whether the PR's head moved on. */
  supersededCheckSeconds: z.number().positive().default(30),
  /** The recorder's SQLite job database; default: hangar-jobs.sqlite next to queue.sqlite.path. */
  jobsDatabase: z.string().min(1).optional(),
  /** Every job runs in a sandbox: its own namespaces, another uid, limits (docs/security.md). */
  sandbox: sandboxSchema.prefault({}),
  /**
   * Entries not signed with queue.signingKey (e.g. from Cockpit's tests-scan): by default they
   * run untrusted (no secrets, no network). An operator sharing a broker with bots may accept them.
   */
  unsignedEntries: z
    .strictObject({
      /** Treat unsigned entries as trusted code (network allowed). */
      trusted: z.boolean().default(false),
      /** Secrets an unsigned entry may get when it names them (only if trusted is true). */
      secrets: z.array(z.string()).default([]),
    })
    .prefault({}),
});

/** The web dashboard and /metrics; served by `hangar serve`/`worker`/`webhook` only when `listen` is set. */
const dashboardSchema = z.strictObject({
  listen: hostPort.optional(),
  /** Holders of this token may retry, cancel and drain; without it the dashboard is read-only. */
  adminToken: secretRefSchema.optional(),
  /** Mark the login cookie Secure: set when the dashboard is reached over HTTPS. */
  secureCookie: z.boolean().default(false),
});

/** A context of the test map: a name, or a name with settings. */
export const contextSchema = z.union([
  z.string().min(1),
  z.strictObject({
    name: z.string().min(1),
    internal: z.boolean().optional(),
    priority: z.number().int().min(0).max(9).optional(),
    timeout: z.number().positive().optional(),
    secrets: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
    command: z.array(z.string()).min(1).optional(),
    container: z.string().optional(),
    capabilities: z.array(z.string()).optional(),
    /** Whether a trusted job of this context may use the network (untrusted jobs never may). */
    network: z.boolean().optional(),
  }),
]);
export type ContextEntry = z.infer<typeof contextSchema>;

/** A five-field cron expression (minute hour day month weekday), checked by the cron parser. */
const cronSchema = z.string().refine(isCronExpression, "expected a cron expression such as `0 3 * * *`");

const scheduleSchema = z.strictObject({
  cron: cronSchema,
  branch: z.string().min(1),
  /** Contexts of the test map to run; the branch's contexts when absent. */
  contexts: z.array(z.string().min(1)).min(1).optional(),
  /** IANA time zone of the cron expression; UTC when absent. */
  timezone: z.string().min(1).optional(),
});
export type ScheduleEntry = z.infer<typeof scheduleSchema>;

const projectSchema = z.strictObject({
  /** branch name (or `_manual`) -> contexts tested on PRs against it */
  branches: z.record(z.string().min(1), z.array(contextSchema)).default({}),
  /** Which forge hosts the repository. */
  forge: z.enum(["github", "forgejo"]).default("github"),
  /** How results are shown: commit statuses, or check runs (needs a GitHub App). */
  report: z.enum(["statuses", "checks"]).default("statuses"),
  /** Scheduled runs of a branch's contexts; failures open an issue. */
  schedules: z.array(scheduleSchema).default([]),
});

const repoName = z.string().regex(/^[\w.-]+\/[\w.-]+$/, "expected owner/name");

/** A webhook hangar may read the deliveries of: a repository's or an organization's. */
const hookSchema = z.union([
  z.strictObject({ repo: repoName, id: z.number().int().positive() }),
  z.strictObject({
    org: z.string().regex(/^[\w.-]+$/, "expected an organization"),
    id: z.number().int().positive(),
  }),
]);
export type HookRef = z.infer<typeof hookSchema>;

/** Catching up with events lost outside hangar: open PRs without statuses, failed deliveries. */
const reconcileSchema = z.strictObject({
  /** Minutes between runs of a scanning worker; 0 runs only at start (with atStart). */
  intervalMinutes: z.number().min(0).default(15),
  atStart: z.boolean().default(true),
  /** The run at start waits this long, so deliveries arriving at start are scanned first. */
  startDelaySeconds: z.number().min(0).default(10),
  hooks: z.array(hookSchema).default([]),
  /** Failed deliveries older than this are left alone (GitHub redelivers up to 3 days back). */
  lookbackHours: z.number().positive().max(72).default(24),
});

export const configSchema = z.strictObject({
  webhook: webhookSchema.prefault({}),
  queue: queueSchema.prefault({}),
  forge: forgeSchema.prefault({}),
  store: storeSchema.prefault({}),
  worker: workerSchema.prefault({}),
  dashboard: dashboardSchema.prefault({}),
  projects: z
    .record(repoName, projectSchema)
    .default({})
    .superRefine((projects, context) => {
      for (const [repo, project] of Object.entries(projects)) {
        if (project.report === "checks" && project.forge !== "github") {
          context.addIssue({
            code: "custom",
            path: [repo, "report"],
            message: "check runs are a GitHub feature; use report: statuses with forge: forgejo",
          });
        }
      }
    }),
  reconcile: reconcileSchema.prefault({}),
  trust: z
    .strictObject({
      users: z.array(z.string()).default([]),
      orgs: z.array(z.string()).default([]),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
    })
    .prefault({}),
});

export type HangarConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
