/**
 * Signed task entries: a queue entry cannot grant itself secrets.
 *
 * Whoever can write to a task queue (a bots tests-scan, an operator's
 * `hangar queue publish`, anyone who got hold of broker credentials) can
 * write any job. So hangar's scan, which decides trust (docs/security.md),
 * signs every task entry it publishes: an HMAC-SHA256 with queue.signingKey
 * over the canonical JSON of the job (keys sorted at every level; without
 * `attempt`, which a requeue changes), kept beside the job as
 * `{"job": ..., "human": ..., "signature": "sha256=<hex>"}`, a key bots
 * workers ignore.
 *
 * What a worker gives a job:
 * - A correctly signed entry is used as it is: its `secrets` (those the
 *   worker has), `env`, `trusted` and `network` are scan's decision.
 * - An unsigned entry, or one whose signature does not verify (or any entry
 *   when the worker has no key), runs as untrusted code: `trusted: false`,
 *   no secrets, no network. Unless worker.unsignedEntries.trusted is true
 *   (an operator sharing a broker with Cockpit's tests-scan, which only
 *   queues trusted PRs): then the entry keeps its `trusted` and `network`,
 *   and of the secrets it names gets only those listed in
 *   worker.unsignedEntries.secrets.
 * - The worker's own test map (config.projects) grants nothing by itself:
 *   (repo, context) say nothing about whether the commit under test is
 *   trusted code, and an unsigned entry can name any commit with any
 *   context. Only scan's signed decision, or the operator's blanket
 *   acceptance of unsigned entries, lets a job have a secret.
 *
 * The signature binds the job, not the queue: a signed entry replayed into
 * another task queue runs the same trusted commit with the same secret
 * names. The recorder's requeue path republishes entries (signature kept)
 * only into the configured task queues.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Job } from "./messages.js";
import type {
  ConsumeOptions,
  Consumer,
  DeliveryHandler,
  PublishOptions,
  QueueBackend,
  QueueInfo,
} from "./types.js";

const PREFIX = "sha256=";
/** Fields a requeue may change without breaking the signature. */
const UNSIGNED_FIELDS = new Set(["attempt"]);

/** JSON with the keys of every object sorted: the same bytes for the same value on every side. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** `sha256=<hex>` of the job, as scan puts it on the entry. */
export function jobSignature(job: Readonly<Record<string, unknown>>, key: string): string {
  const signed = Object.fromEntries(Object.entries(job).filter(([name]) => !UNSIGNED_FIELDS.has(name)));
  return `${PREFIX}${createHmac("sha256", key).update(canonicalJson(signed)).digest("hex")}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function parseObject(body: Buffer | string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString());
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The entry with its job signed; anything that is not a job entry is returned unchanged. */
export function signTaskBody(body: Buffer | string, key: string): Buffer | string {
  const entry = parseObject(body);
  if (entry === undefined || !isRecord(entry.job)) return body;
  return JSON.stringify({ ...entry, signature: jobSignature(entry.job, key) });
}

export type EntryTrust = "signed" | "unsigned" | "bad-signature";

/** Whether the entry's job carries a valid signature under key (compared in constant time). */
export function checkSignature(body: Buffer | string, key: string | undefined): EntryTrust {
  const entry = parseObject(body);
  if (key === undefined || entry === undefined || entry.signature === undefined) return "unsigned";
  if (typeof entry.signature !== "string" || !isRecord(entry.job)) return "bad-signature";
  const expected = Buffer.from(jobSignature(entry.job, key));
  const given = Buffer.from(entry.signature);
  return given.length === expected.length && timingSafeEqual(given, expected) ? "signed" : "bad-signature";
}

/** What a worker accepts: its key, and what it grants entries that are not signed with it. */
export interface EntryPolicy {
  readonly signingKey?: string;
  readonly unsigned: { readonly trusted: boolean; readonly secrets: readonly string[] };
}

/** The job as the worker runs it, and a line for the job's log when the entry was cut down. */
export interface Admission {
  readonly job: Job;
  readonly trust: EntryTrust;
  readonly notice?: string;
}

/** Apply the rule above to one entry (body: the entry as delivered; job: its parsed job). */
export function admitJob(job: Job, body: Buffer | string, policy: EntryPolicy): Admission {
  const trust = checkSignature(body, policy.signingKey);
  if (trust === "signed") return { job, trust };
  const what = trust === "unsigned" ? "Unsigned queue entry" : "Queue entry with a bad signature";
  if (!policy.unsigned.trusted) {
    return {
      job: { ...job, trusted: false, network: false, secrets: [] },
      trust,
      notice: `${what}: it runs as untrusted code, with no secrets and no network.`,
    };
  }
  const named = job.secrets ?? [];
  const allowed = named.filter((name) => policy.unsigned.secrets.includes(name));
  const withheld = named.filter((name) => !allowed.includes(name));
  return {
    job: { ...job, secrets: allowed },
    trust,
    ...(withheld.length > 0
      ? {
          notice: `${what}: secrets not given (not in worker.unsignedEntries.secrets): ${withheld.join(", ")}.`,
        }
      : {}),
  };
}

/** A queue whose job entries are signed on the way in: the scan role's handle on the queue. */
export class SigningQueue implements QueueBackend {
  constructor(
    private readonly inner: QueueBackend,
    private readonly key: string,
  ) {}

  get driver(): QueueBackend["driver"] {
    return this.inner.driver;
  }

  publish(queue: string, body: Buffer | string, options?: PublishOptions): Promise<void> {
    return this.inner.publish(queue, signTaskBody(body, this.key), options);
  }

  consume(queue: string, handler: DeliveryHandler, options?: ConsumeOptions): Promise<Consumer> {
    return this.inner.consume(queue, handler, options);
  }

  inspect(queue: string, limit?: number): Promise<QueueInfo> {
    return this.inner.inspect(queue, limit);
  }

  purge(queue: string): Promise<number> {
    return this.inner.purge(queue);
  }

  /** The inner queue belongs to whoever opened it. */
  async close(): Promise<void> {}
}

/** The queue scan publishes through: signing with key, or as it is without one. */
export function signingQueue(queue: QueueBackend, key: string | undefined): QueueBackend {
  return key === undefined ? queue : new SigningQueue(queue, key);
}
