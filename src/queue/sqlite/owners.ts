/** The owners table: one row per open backend, with the heartbeat that keeps its leases alive. */
import type { OwnerIdentity } from "./identity.js";
import type { SqliteDatabase } from "./schema.js";

export interface OwnerRow {
  readonly token: string;
  readonly pid: number;
  readonly host: string;
  readonly pidNamespace: string;
  readonly heartbeat: number;
}

export interface OwnerStatements {
  register(identity: OwnerIdentity): void;
  /** Returns false when the row is gone (the owner was reclaimed as dead). */
  renew(token: string): boolean;
  list(): OwnerRow[];
  /** Returns whether the row still had the heartbeat it was judged by. */
  removeIfUnchanged(owner: OwnerRow): boolean;
}

export function prepareOwnerStatements(db: SqliteDatabase): OwnerStatements {
  const insert = db.prepare<[OwnerIdentity & { heartbeat: number }]>(
    `INSERT OR REPLACE INTO owners (token, pid, host, pid_namespace, heartbeat)
     VALUES (@token, @pid, @host, @pidNamespace, @heartbeat)`,
  );
  const renew = db.prepare<[number, string]>("UPDATE owners SET heartbeat = ? WHERE token = ?");
  const list = db.prepare<[], OwnerRow>(
    "SELECT token, pid, host, pid_namespace AS pidNamespace, heartbeat FROM owners",
  );
  const remove = db.prepare<[string, number]>("DELETE FROM owners WHERE token = ? AND heartbeat = ?");
  return {
    register: (identity) => {
      insert.run({ ...identity, heartbeat: Date.now() });
    },
    renew: (token) => renew.run(Date.now(), token).changes === 1,
    list: () => list.all(),
    removeIfUnchanged: (owner) => remove.run(owner.token, owner.heartbeat).changes === 1,
  };
}
