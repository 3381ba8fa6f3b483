/**
 * WAL checkpoints off the event loop. A commit that pushes the WAL past its
 * autocheckpoint size copies the WAL into the database and fsyncs both, right
 * there on the committing thread: for a publishing webhook, a 10-25 ms stall
 * of every request in flight, every few hundred deliveries. Once this process
 * publishes, its connection stops checkpointing by itself and a worker thread
 * with its own connection runs PASSIVE checkpoints instead (which never block
 * the writer): after every few MiB published, and once a tick for whatever
 * else was committed. Should that thread fail, the connection checkpoints by
 * itself again.
 */
import { Worker } from "node:worker_threads";
import type { CheckpointData, CheckpointRequest } from "./checkpoint-thread.js";
import type { SqliteDatabase } from "./schema.js";

const SCRIPT = new URL("./checkpoint-thread.js", import.meta.url);
/** About SQLite's default autocheckpoint of 1000 pages of 4 KiB. */
const CHECKPOINT_EVERY_BYTES = 4 * 1024 * 1024;
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

export class Checkpointer {
  private worker: Worker | undefined;
  private running = false;
  private broken = false;
  private sinceLast = 0;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly data: CheckpointData,
    private readonly onError: (error: Error) => void,
  ) {}

  /** After a commit of published entries: `bytes` more in the WAL. */
  committed(bytes: number): void {
    this.start();
    this.sinceLast += bytes;
    if (this.sinceLast >= CHECKPOINT_EVERY_BYTES) this.request();
  }

  /** Periodically: checkpoint what other commits (leases, acks) added. */
  tick(): void {
    this.request();
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker === undefined) return;
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    worker.ref();
    const close: CheckpointRequest = "close";
    worker.postMessage(close);
    await exited;
  }

  private request(): void {
    if (this.worker === undefined || this.running) return;
    this.running = true;
    this.sinceLast = 0;
    const checkpoint: CheckpointRequest = "checkpoint";
    this.worker.postMessage(checkpoint);
  }

  private start(): void {
    if (this.worker !== undefined || this.broken) return;
    const worker = new Worker(SCRIPT, { workerData: this.data });
    worker.unref();
    worker.on("message", (reply: string) => {
      this.running = false;
      if (reply !== "done") this.onError(new Error(`WAL checkpoint ${reply}`));
      if (this.sinceLast >= CHECKPOINT_EVERY_BYTES) this.request();
    });
    worker.on("error", (error) => this.fallBack(worker, error));
    worker.on("exit", (code) =>
      this.fallBack(worker, new Error(`the checkpoint thread exited with ${code}`)),
    );
    this.db.pragma("wal_autocheckpoint = 0");
    this.worker = worker;
  }

  private fallBack(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.broken = true;
    this.running = false;
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
    this.onError(error);
  }
}
