/**
 * The per-job disk cap: the space a job's directory takes is summed every
 * 100 ms (or twice as long as a sum takes, for big checkouts, at most every
 * 2 s), and the job is stopped once it passes the cap: a job writing as fast
 * as the page cache takes gets one interval's worth past it, no more. RLIMIT_FSIZE
 * (set by the executors) keeps a single file from outgrowing the cap between
 * two looks. What this cannot see: files the job deleted while keeping them
 * open (they die with the job), and /tmp when it is a tmpfs (memory, capped
 * by the memory limit instead).
 */
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 2000;

/** The pause before the next look: summing must not become the job's main cost. */
function nextInterval(lookMs: number): number {
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, 2 * lookMs));
}

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
    const started = Date.now();
    const used = await diskUsage(dir);
    if (stopped) return;
    if (used > limitBytes) {
      stopped = true;
      onExceeded(used);
      return;
    }
    timer = setTimeout(() => void look(), nextInterval(Date.now() - started));
  };
  timer = setTimeout(() => void look(), MIN_INTERVAL_MS);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
