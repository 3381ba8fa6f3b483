/** Opening the queue database (0600, see private-file.ts): pragmas and schema migrations. */
import Database from "better-sqlite3";
import { createPrivateFile } from "./private-file.js";

export type SqliteDatabase = Database.Database;

/**
 * Durability level of a commit.
 * - "normal": WAL with synchronous=NORMAL. A commit is a write() of the WAL
 *   frames into the kernel's page cache; once write() returned, killing the
 *   process (even with SIGKILL) cannot undo it, the kernel writes it back.
 *   Only an OS crash or power loss can drop the last commits (the file stays
 *   consistent). That is the failure the queue guards against by default, at
 *   tens of thousands of publishes per second.
 * - "full": also fsync the WAL on every commit, surviving power loss too, at
 *   the disk's fsync rate.
 */
export type SqliteSynchronous = "normal" | "full";

/** How long a connection waits for another process's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;

/** Applied in order; PRAGMA user_version counts how many a file already has. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 9),
    body BLOB NOT NULL,
    published_at INTEGER NOT NULL,
    -- how often the entry was leased; > 1 at lease time means redelivered
    deliveries INTEGER NOT NULL DEFAULT 0,
    -- token of the owner holding the lease; NULL while the entry waits
    owner TEXT
  );
  CREATE INDEX entries_ready ON entries (queue, priority DESC, id) WHERE owner IS NULL;
  CREATE INDEX entries_leased ON entries (owner) WHERE owner IS NOT NULL;
  CREATE TABLE owners (
    token TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    pid_namespace TEXT NOT NULL,
    -- ms since the epoch; the owner's leases expire when this gets too old
    heartbeat INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
];

export function openDatabase(path: string, synchronous: SqliteSynchronous): SqliteDatabase {
  let db: SqliteDatabase;
  try {
    createPrivateFile(path);
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw new Error(`cannot open the queue database ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${synchronous === "full" ? "FULL" : "NORMAL"}`);
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: SqliteDatabase): void {
  // IMMEDIATE: processes opening the same new file at once migrate it one after the other.
  db.transaction(() => {
    const applied = db.pragma("user_version", { simple: true }) as number;
    if (applied > MIGRATIONS.length) {
      throw new Error(
        `queue database has schema version ${applied}, newer than this hangar knows (${MIGRATIONS.length})`,
      );
    }
    for (const sql of MIGRATIONS.slice(applied)) db.exec(sql);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}
