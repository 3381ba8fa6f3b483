/**
 * The job directory, made the sandbox user's before the job starts: its
 * subdirectories (checkout, home, attachments, tmp, secrets) and everything in
 * them are chowned to the sandbox uid, without following symlinks (a checkout
 * may link to /etc/shadow). The directory itself and the worker's bookkeeping
 * files directly in it (owner.pid, job.pgid) stay the worker's, so the job
 * cannot rewrite what the reaper acts on; mode 0711 lets it pass through.
 */
import { chmod, lchown, readdir } from "node:fs/promises";
import { join } from "node:path";

async function chownTree(root: string, uid: number, gid: number): Promise<void> {
  const pending = [root];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    await lchown(dir, uid, gid);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else await lchown(path, uid, gid);
    }
  }
}

export async function handOverJobDir(
  jobDir: string,
  owner: { readonly uid: number; readonly gid: number },
  secretsDir?: string,
): Promise<void> {
  try {
    await handOver(jobDir, owner, secretsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") throw error;
    throw new Error(
      `handing the job directory to uid ${owner.uid} needs a worker running as root (or worker.sandbox.mode: none): ${(error as Error).message}`,
    );
  }
}

async function handOver(
  jobDir: string,
  owner: { readonly uid: number; readonly gid: number },
  secretsDir?: string,
): Promise<void> {
  await chmod(jobDir, 0o711);
  for (const entry of await readdir(jobDir, { withFileTypes: true })) {
    if (entry.isDirectory()) await chownTree(join(jobDir, entry.name), owner.uid, owner.gid);
  }
  // Secrets kept elsewhere (never the case for runJob's jobs, whose secrets are inside).
  if (secretsDir !== undefined) await chownTree(secretsDir, owner.uid, owner.gid);
}
