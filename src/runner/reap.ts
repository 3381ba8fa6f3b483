/**
 * A worker that died (SIGKILL, power loss) leaves its job's processes and
 * directory behind. Each job directory records its worker's pid and the job's
 * process group; a starting worker removes what dead workers left.
 */
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../util/logger.js";
import { isProcessAlive } from "../util/process.js";

const OWNER_FILE = "owner.pid";
const GROUP_FILE = "job.pgid";
export const JOB_DIR_PREFIX = "job-";

async function readPid(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(path, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function markOwner(jobDir: string): Promise<void> {
  return writeFile(join(jobDir, OWNER_FILE), String(process.pid));
}

export function markProcessGroup(jobDir: string, group: number): Promise<void> {
  return writeFile(join(jobDir, GROUP_FILE), String(group));
}

/** Kill the process groups and remove the directories of jobs whose worker is gone. Returns how many. */
export async function reapStaleJobs(workDir: string, logger: Logger): Promise<number> {
  let reaped = 0;
  for (const name of await readdir(workDir).catch(() => [] as string[])) {
    if (!name.startsWith(JOB_DIR_PREFIX)) continue;
    const dir = join(workDir, name);
    const owner = await readPid(join(dir, OWNER_FILE));
    if (owner !== undefined && isProcessAlive(owner)) continue;
    const group = await readPid(join(dir, GROUP_FILE));
    if (group !== undefined) {
      try {
        process.kill(-group, "SIGKILL");
      } catch {
        // The group already ended.
      }
    }
    await rm(dir, { recursive: true, force: true });
    logger.warn({ dir, owner, group }, "removed a job left behind by a dead worker");
    reaped++;
  }
  return reaped;
}
