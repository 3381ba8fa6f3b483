/**
 * The schema of hangar.yaml. Every key is documented in README.md; defaults
 * here are the embedded one-machine setup.
 */
import { z } from "zod";

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

const webhookSchema = z.strictObject({
  listen: hostPort.default("127.0.0.1:8080"),
  secret: secretRefSchema.optional(),
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(25 * 1024 * 1024),
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
    })
    .prefault({}),
});

const forgeSchema = z.strictObject({
  github: z
    .strictObject({
      api: z.url().default("https://api.github.com"),
      clone: z.string().min(1).default("https://github.com"),
      token: secretRefSchema.optional(),
      post: z.boolean().default(true),
    })
    .prefault({}),
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
  }),
]);
export type ContextEntry = z.infer<typeof contextSchema>;

const projectSchema = z.strictObject({
  /** branch name (or `_manual`) -> contexts tested on PRs against it */
  branches: z.record(z.string().min(1), z.array(contextSchema)).default({}),
});

const repoName = z.string().regex(/^[\w.-]+\/[\w.-]+$/, "expected owner/name");

export const configSchema = z.strictObject({
  webhook: webhookSchema.prefault({}),
  queue: queueSchema.prefault({}),
  forge: forgeSchema.prefault({}),
  store: storeSchema.prefault({}),
  worker: workerSchema.prefault({}),
  projects: z.record(repoName, projectSchema).default({}),
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
