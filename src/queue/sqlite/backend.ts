/**
 * The SQLite queue backend: one database file shared by every process of a
 * machine (the webhook publishes, workers consume). See schema.ts for the
 * durability choice, publish.ts for how publishes are committed (group
 * commit), checkpoint.ts for where the WAL is checkpointed, wake.ts for how
 * consumers learn of new entries and reclaim.ts for how the entries of dead
 * consumers come back.
 */
import { errorMessage } from "../../util/errors.js";
import { type Logger, silentLogger } from "../../util/logger.js";
import { checkInspectLimit, checkPriority, checkQueue, queueKinds } from "../layout.js";
import {
  type ConsumeOptions,
  type Consumer,
  DEFAULT_PRIORITY,
  type DeliveryHandler,
  type PublishOptions,
  type QueueBackend,
  type QueueInfo,
  type QueueKind,
  type QueueLayout,
} from "../types.js";
import { Checkpointer } from "./checkpoint.js";
import { type ClaimEntries, prepareClaimEntries } from "./claim.js";
import { SqliteConsumer } from "./consumer.js";
import type { LeaseOperations } from "./delivery.js";
import { newIdentity, type OwnerIdentity } from "./identity.js";
import { type InspectQueue, prepareInspectQueue } from "./inspect.js";
import { type OwnerStatements, prepareOwnerStatements } from "./owners.js";
import { GroupCommit, type NewEntry, prepareInsertBatch } from "./publish.js";
import { type PurgeQueue, preparePurgeQueue } from "./purge.js";
import { prepareReclaimDeadLeases, type ReclaimDeadLeases, type ReclaimResult } from "./reclaim.js";
import { prepareReleaseStatements, type ReleaseStatements } from "./release.js";
import { openDatabase, type SqliteDatabase, type SqliteSynchronous } from "./schema.js";
import { type LeaseRef, prepareDeleteLeased, prepareRequeueLeased, type SettleEntry } from "./settle.js";
import { Wakeup } from "./wake.js";

export interface SqliteQueueOptions {
  /** The database file; its directory must exist. Side files: -wal, -shm, -wake. */
  readonly path: string;
  readonly layout: QueueLayout;
  readonly logger?: Logger;
  /** "normal" (default) survives process crashes, "full" also power loss; see schema.ts. */
  readonly synchronous?: SqliteSynchronous;
  /** Safety-net poll and dead-consumer check, in ms (default 1000). */
  readonly pollIntervalMs?: number;
  /** Leases of an owner that stops renewing them for this long are reclaimed, in ms (default 60000). */
  readonly leaseTtlMs?: number;
}

const DEFAULT_POLL_INTERVAL_MS = 1000;
const DEFAULT_LEASE_TTL_MS = 60_000;
const DEFAULT_INSPECT_LIMIT = 10;

export async function openSqliteQueue(options: SqliteQueueOptions): Promise<SqliteQueueBackend> {
  return new SqliteQueueBackend(options);
}

interface Statements {
  readonly claim: ClaimEntries;
  readonly deleteLeased: SettleEntry;
  readonly requeueLeased: SettleEntry;
  readonly inspect: InspectQueue;
  readonly purge: PurgeQueue;
  readonly owners: OwnerStatements;
  readonly release: ReleaseStatements;
  readonly reclaim: ReclaimDeadLeases;
}

export class SqliteQueueBackend implements QueueBackend {
  readonly driver = "sqlite";
  private readonly db: SqliteDatabase;
  private readonly statements: Statements;
  private readonly identity: OwnerIdentity = newIdentity();
  private readonly kinds: ReadonlyMap<string, QueueKind>;
  private readonly logger: Logger;
  private readonly wakeup: Wakeup;
  private readonly consumers = new Set<SqliteConsumer>();
  private readonly timers: NodeJS.Timeout[];
  private readonly leases: LeaseOperations;
  private readonly groupCommit: GroupCommit;
  private readonly checkpointer: Checkpointer;
  private isClosed = false;

  constructor(options: SqliteQueueOptions) {
    this.kinds = queueKinds(options.layout);
    this.logger = (options.logger ?? silentLogger()).child({ queueDriver: "sqlite" });
    this.db = openDatabase(options.path, options.synchronous ?? "normal");
    try {
      this.statements = this.prepare(options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS);
      this.statements.owners.register(this.identity);
      this.wakeup = new Wakeup(options.path, (error) =>
        this.logger.warn({ error: errorMessage(error) }, "watching for queue wake-ups failed"),
      );
      this.checkpointer = new Checkpointer(this.db, { path: options.path }, (error) =>
        this.logger.warn({ error: errorMessage(error) }, "checkpointing the queue's WAL failed"),
      );
      this.groupCommit = new GroupCommit(prepareInsertBatch(this.db), (batch) => this.committed(batch));
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.leases = this.leaseOperations();
    this.reclaimQuietly();
    const leaseTtlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.timers = [
      setInterval(() => this.poll(), options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS),
      setInterval(() => this.heartbeat(), Math.max(10, Math.floor(leaseTtlMs / 4))),
    ];
    // Timers don't keep a process alive; an active consumer's file watch does.
    for (const timer of this.timers) timer.unref();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  async publish(queue: string, body: Buffer | string, options?: PublishOptions): Promise<void> {
    this.assertOpen();
    checkQueue(this.kinds, queue);
    const priority = checkPriority(options?.priority ?? DEFAULT_PRIORITY);
    return this.groupCommit.add(queue, priority, typeof body === "string" ? Buffer.from(body, "utf8") : body);
  }

  async consume(queue: string, handler: DeliveryHandler, options?: ConsumeOptions): Promise<Consumer> {
    this.assertOpen();
    checkQueue(this.kinds, queue);
    const prefetch = options?.prefetch ?? 1;
    if (!Number.isInteger(prefetch) || prefetch < 1) {
      throw new RangeError(`prefetch must be a positive integer, got ${prefetch}`);
    }
    const consumer = new SqliteConsumer(
      queue,
      handler,
      prefetch,
      this.leases,
      this.wakeup,
      this.logger,
      (c) => this.consumers.delete(c),
    );
    this.consumers.add(consumer);
    consumer.schedule();
    return consumer;
  }

  async inspect(queue: string, limit = DEFAULT_INSPECT_LIMIT): Promise<QueueInfo> {
    this.assertOpen();
    checkQueue(this.kinds, queue);
    checkInspectLimit(limit);
    return this.statements.inspect(queue, limit);
  }

  async purge(queue: string): Promise<number> {
    this.assertOpen();
    checkQueue(this.kinds, queue);
    return this.statements.purge(queue);
  }

  /** Stop consuming and give every lease this backend holds back to its queue. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    // Publishes already made commit before the database goes away.
    await this.groupCommit.flush();
    await this.checkpointer.close();
    for (const timer of this.timers) clearInterval(timer);
    for (const consumer of [...this.consumers]) await consumer.cancel();
    try {
      const { release } = this.statements;
      const released = this.db
        .transaction(() => {
          const count = release.releaseOwner(this.identity.token);
          release.unregister(this.identity.token);
          return count;
        })
        .immediate();
      if (released > 0) {
        this.logger.info({ released }, "returned unsettled deliveries to their queues on close");
        this.wakeup.notify(undefined);
      }
    } finally {
      this.wakeup.close();
      this.db.close();
    }
  }

  /** Return the leases of dead owners now instead of at the next poll. */
  reclaimDeadLeases(): ReclaimResult {
    this.assertOpen();
    const result = this.statements.reclaim();
    if (result.entries > 0) {
      this.logger.info(result, "returned deliveries of dead consumers to their queues");
      this.wakeup.notify(undefined);
    }
    return result;
  }

  private prepare(leaseTtlMs: number): Statements {
    const db = this.db;
    const owners = prepareOwnerStatements(db);
    const release = prepareReleaseStatements(db);
    return {
      claim: prepareClaimEntries(db),
      deleteLeased: prepareDeleteLeased(db),
      requeueLeased: prepareRequeueLeased(db),
      inspect: prepareInspectQueue(db),
      purge: preparePurgeQueue(db),
      owners,
      release,
      reclaim: prepareReclaimDeadLeases(db, { owners, release }, this.identity, leaseTtlMs),
    };
  }

  private leaseOperations(): LeaseOperations {
    const backend = this;
    const held = (settle: SettleEntry, lease: LeaseRef, queue: string): void => {
      if (backend.isClosed) {
        throw new Error(
          `queue backend is closed; delivery ${lease.id}.${lease.deliveries} of ${queue} was requeued`,
        );
      }
      if (!settle(lease)) {
        throw new Error(
          `delivery ${lease.id}.${lease.deliveries} of ${queue} is no longer held by this consumer (its lease was reclaimed)`,
        );
      }
    };
    return {
      owner: this.identity.token,
      get closed() {
        return backend.isClosed;
      },
      claim: (queue, limit) => this.statements.claim(queue, this.identity.token, limit),
      remove: (lease, queue) => held(this.statements.deleteLeased, lease, queue),
      requeue: (lease, queue) => {
        held(this.statements.requeueLeased, lease, queue);
        this.wakeup.notify(queue);
      },
    };
  }

  /** After a group commit: wake the consumers of each queue that got entries. */
  private committed(batch: readonly NewEntry[]): void {
    let bytes = 0;
    const queues = new Set<string>();
    for (const entry of batch) {
      bytes += entry.body.length;
      queues.add(entry.queue);
    }
    for (const queue of queues) this.wakeup.notify(queue);
    this.checkpointer.committed(bytes);
  }

  private poll(): void {
    this.checkpointer.tick();
    this.reclaimQuietly();
    for (const consumer of this.consumers) consumer.schedule();
  }

  private reclaimQuietly(): void {
    try {
      this.reclaimDeadLeases();
    } catch (error) {
      this.logger.warn({ error: errorMessage(error) }, "reclaiming leases of dead consumers failed");
    }
  }

  private heartbeat(): void {
    try {
      if (this.statements.owners.renew(this.identity.token)) return;
      // Judged dead (the event loop stalled past the lease TTL): our leases went back to their queues.
      this.logger.warn("this process's queue leases expired and were reclaimed; registering again");
      this.statements.owners.register(this.identity);
    } catch (error) {
      this.logger.warn({ error: errorMessage(error) }, "renewing queue leases failed");
    }
  }

  private assertOpen(): void {
    if (this.isClosed) throw new Error("queue backend is closed");
  }
}
