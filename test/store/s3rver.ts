/**
 * s3rver (an S3 server written for tests) on 127.0.0.1, a free port and a
 * temp dir, for the s3 store's tests, the e2e flow and the bench.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import S3rver from "s3rver";

/** s3rver's fixed credentials. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

export interface S3Server {
  /** http://127.0.0.1:PORT, no trailing slash. */
  readonly endpoint: string;
  readonly dir: string;
  /** A new, empty bucket; returns its path-style URL (endpoint/bucket). */
  bucket(name?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startS3rver(): Promise<S3Server> {
  const dir = await mkdtemp(path.join(tmpdir(), "hangar-s3rver-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: dir });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    dir,
    async bucket(name = `b${randomBytes(6).toString("hex")}`) {
      // A bucket made through S3's own API, so s3rver's state and the client's agree.
      const response = await fetch(`${endpoint}/${name}`, { method: "PUT" });
      if (!response.ok) throw new Error(`s3rver refused bucket ${name}: HTTP ${response.status}`);
      return `${endpoint}/${name}`;
    },
    async close() {
      // Keep-alive connections of SDK clients and fetch would hold close() open.
      const closed = server.close();
      server.httpServer.closeAllConnections();
      await closed;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
