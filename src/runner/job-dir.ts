/**
 * A job's own directory, handed to the sandbox's user. The sandbox runs the
 * job as worker.sandbox.uid/gid and binds only this directory read-write, so
 * what the job must write or read (checkout, attachments, home, tmp, its
 * secrets) is that user's. The directory itself stays the worker's (root's),
 * readable only by the sandbox's group: the job cannot add, remove or rewrite
 * the files the worker keeps there (owner.pid, job.pgid).
 */
import { chmod, chown, lchown, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { HangarConfig } from "../config/index.js";

export type JobSandbox = Pick<HangarConfig["worker"]["sandbox"], "mode" | "uid" | "gid">;

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/** Whom job files must belong to: the sandbox's user, when a root worker sandboxes jobs. */
export function sandboxOwner(sandbox: JobSandbox | undefined): Owner | undefined {
  if (sandbox === undefined || sandbox.mode === "none" || process.getuid?.() !== 0) return undefined;
  return { uid: sandbox.uid, gid: sandbox.gid };
}

/** lchown a tree: symbolic links are changed themselves, never followed. */
async function chownTree(path: string, owner: Owner): Promise<void> {
  await lchown(path, owner.uid, owner.gid);
  const entries = await readdir(path, { withFileTypes: true });
  await Promise.all(
    entries.map((entry) => {
      const child = join(path, entry.name);
      return entry.isDirectory() ? chownTree(child, owner) : lchown(child, owner.uid, owner.gid);
    }),
  );
}

/**
 * Give the job's parts to the sandbox's user (when there is one) and let that
 * user's group, and nobody else, into the job directory.
 */
export async function handOver(
  jobDir: string,
  parts: readonly string[],
  owner: Owner | undefined,
): Promise<void> {
  if (owner === undefined) return;
  for (const part of parts) await chownTree(part, owner);
  await chown(jobDir, 0, owner.gid);
  await chmod(jobDir, 0o710);
}
