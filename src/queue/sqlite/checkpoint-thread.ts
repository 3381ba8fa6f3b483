/**
 * The checkpoint thread's side (see checkpoint.ts): its own connection to the
 * queue database, a PASSIVE checkpoint each time it is asked, an answer each
 * time; "close" closes the connection and ends the thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

export interface CheckpointData {
  readonly path: string;
}

export type CheckpointRequest = "checkpoint" | "close";

const port = parentPort;
if (port === null) throw new Error("checkpoint-thread.js runs as a worker thread only");
const { path } = workerData as CheckpointData;
const db = new Database(path, { timeout: 10_000, fileMustExist: true });

interface CheckpointResult {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

/** Passes per request at most; the next request goes on where this one stopped. */
const MAX_PASSES = 20;
/** A WAL of more frames than this (64 MiB of 4 KiB pages) is restarted even if the writer must wait. */
const RESTART_FRAMES = 16_384;

/**
 * PASSIVE checkpoints copy what they can without waiting for readers or
 * blocking the writer. The WAL starts over from its beginning (instead of
 * growing) only after a checkpoint has copied every frame in it, and the
 * writer keeps appending while one runs: so passes repeat, each with only
 * what came during the one before to copy, until one finds nothing new. A
 * writer that appends as fast as the passes copy would grow the WAL for good:
 * once it holds more than RESTART_FRAMES, one RESTART checkpoint makes the
 * writer wait (for what the passes left, and an fsync) and the WAL starts over.
 */
function catchUp(): void {
  let seen = -1;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const [result] = db.pragma("wal_checkpoint(PASSIVE)") as CheckpointResult[];
    if (result === undefined || result.busy !== 0 || result.log === seen) return;
    if (result.log > RESTART_FRAMES) {
      db.pragma("wal_checkpoint(RESTART)");
      return;
    }
    seen = result.log;
  }
}

port.on("message", (request: CheckpointRequest) => {
  if (request === "close") {
    db.close();
    port.close();
    return;
  }
  try {
    catchUp();
    port.postMessage("done");
  } catch (error) {
    port.postMessage(`failed: ${error instanceof Error ? error.message : String(error)}`);
  }
});
