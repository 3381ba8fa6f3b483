/**
 * The per-job disk cap: the space a job's directory takes is summed about
 * once a second, and the job is stopped once it passes the cap. RLIMIT_FSIZE
 * (set by the executors) keeps a single file from outgrowing the cap between
 * two looks. What this cannot see: files the job deleted while keeping them
 * open (they die with the job), and /tmp when it is a tmpfs (memory, capped
 * by the memory limit instead).
 */
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

const INTERVAL_MS = 1000;

/** Bytes allocated under dir (blocks, not apparent sizes: a sparse file costs what it uses); symlinks not followed. */
export async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  const pending = [dir];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const parent = next;
    const names = await readdir(parent).catch(() => [] as string[]);
    const infos = await Promise.all(
      names.map(async (name) => {
        const path = join(parent, name);
        return { path, info: await lstat(path).catch(() => undefined) };
      }),
    );
    for (const { path, info } of infos) {
      if (info === undefined) continue;
      total += info.blocks * 512;
      if (info.isDirectory()) pending.push(path);
    }
  }
  return total;
}

export interface DiskWatch {
  stop(): void;
}

/** Calls onExceeded once when dir takes more than limitBytes; looks again only after a look ends. */
export function watchDiskUsage(
  dir: string,
  limitBytes: number,
  onExceeded: (usedBytes: number) => void,
): DiskWatch {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const look = async () => {
    const used = await diskUsage(dir);
    if (stopped) return;
    if (used > limitBytes) {
      stopped = true;
      onExceeded(used);
      return;
    }
    timer = setTimeout(() => void look(), INTERVAL_MS);
  };
  timer = setTimeout(() => void look(), INTERVAL_MS);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
