/**
 * Per-job limits through cgroups v1: each job gets `hangar/<worker pid>-<id>`
 * under the worker's own cgroup of the pids and memory controllers, with
 * pids.max and memory.limit_in_bytes. The job's first process joins them
 * before it execs anything (see launch.ts), so all it starts stays inside.
 *
 * Where these are not writable (a container without a delegated cgroup, or
 * cgroup v2, whose "no processes in inner nodes" rule would need the worker to
 * move itself into a leaf), the caller falls back to RLIMIT_NPROC.
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isProcessAlive } from "../../util/process.js";

const ROOT = "/sys/fs/cgroup";
const CONTROLLERS = ["pids", "memory"] as const;
type Controller = (typeof CONTROLLERS)[number];
const GROUP = "hangar";
const REMOVE_DEADLINE_MS = 10_000;

export interface JobLimits {
  readonly maxProcesses: number;
  readonly memoryBytes: number;
}

/** The worker's own cgroup path per v1 controller, from /proc/self/cgroup ("4:memory:/a/b"). */
async function ownPaths(): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  for (const line of (await readFile("/proc/self/cgroup", "utf8")).split("\n")) {
    const [, controllers, path] = line.split(":");
    if (!controllers || path === undefined) continue;
    for (const controller of controllers.split(",")) paths.set(controller, path);
  }
  return paths;
}

async function processesIn(dir: string): Promise<number[]> {
  const text = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map(Number);
}

function kill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** Kill whatever is left in a job's cgroup and remove it; true once it is gone. */
async function removeGroup(dir: string): Promise<boolean> {
  const deadline = Date.now() + REMOVE_DEADLINE_MS;
  for (;;) {
    for (const pid of await processesIn(dir)) kill(pid);
    try {
      await rmdir(dir);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return true;
      if (code !== "EBUSY" || Date.now() > deadline) return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** One job's cgroups. */
export class JobCgroup {
  constructor(private readonly dirs: ReadonlyMap<Controller, string>) {}

  /** The files the job's first process writes its pid into. */
  get procsFiles(): string[] {
    return [...this.dirs.values()].map((dir) => join(dir, "cgroup.procs"));
  }

  /** The limits the job ran into, as lines for its log. */
  async limitsHit(limits: JobLimits): Promise<string[]> {
    const notes: string[] = [];
    const pids = await this.counter("pids", "pids.events", "max");
    if (pids > 0) notes.push(`the job reached its limit of ${limits.maxProcesses} processes`);
    const oom = await this.counter("memory", "memory.oom_control", "oom_kill");
    if (oom > 0) {
      notes.push(
        `the job reached its memory limit of ${limits.memoryBytes / 1024 / 1024} MiB and was killed`,
      );
    }
    return notes;
  }

  private async counter(controller: Controller, file: string, key: string): Promise<number> {
    const dir = this.dirs.get(controller);
    if (dir === undefined) return 0;
    const text = await readFile(join(dir, file), "utf8").catch(() => "");
    const line = text.split("\n").find((l) => l.startsWith(`${key} `));
    return line ? Number(line.split(" ")[1]) : 0;
  }

  /** Kill anything still inside (nothing should be: the PID namespace ended) and remove the cgroups. */
  async remove(): Promise<boolean> {
    const removed = await Promise.all([...this.dirs.values()].map(removeGroup));
    return removed.every(Boolean);
  }
}

export class Cgroups {
  private constructor(private readonly parents: ReadonlyMap<Controller, string>) {}

  /** The cgroups jobs can be put in, or why not. */
  static async probe(): Promise<Cgroups | { unavailable: string }> {
    let own: Map<string, string>;
    try {
      own = await ownPaths();
    } catch (error) {
      return { unavailable: `cannot read /proc/self/cgroup (${(error as Error).message})` };
    }
    const parents = new Map<Controller, string>();
    for (const controller of CONTROLLERS) {
      const path = own.get(controller);
      if (path === undefined)
        return { unavailable: `no cgroup v1 ${controller} controller (cgroup v2 host?)` };
      const parent = join(ROOT, controller, path, GROUP);
      try {
        await mkdir(parent, { recursive: true });
        // It may exist already (made by another worker) without being ours to write.
        await access(parent, constants.W_OK);
      } catch (error) {
        return { unavailable: `cannot create ${parent} (${(error as NodeJS.ErrnoException).code})` };
      }
      parents.set(controller, parent);
    }
    const cgroups = new Cgroups(parents);
    await cgroups.reapStale();
    return cgroups;
  }

  /** A job's cgroups with its limits set; throws if the kernel refuses them. */
  async create(limits: JobLimits): Promise<JobCgroup> {
    const name = `${process.pid}-${randomBytes(6).toString("hex")}`;
    const dirs = new Map<Controller, string>();
    const group = new JobCgroup(dirs);
    try {
      for (const [controller, parent] of this.parents) {
        const dir = join(parent, name);
        await mkdir(dir);
        dirs.set(controller, dir);
      }
      await writeFile(join(dirs.get("pids") as string, "pids.max"), String(limits.maxProcesses));
      await writeFile(
        join(dirs.get("memory") as string, "memory.limit_in_bytes"),
        String(limits.memoryBytes),
      );
    } catch (error) {
      await group.remove();
      throw error;
    }
    return group;
  }

  /** Cgroups of workers that died before removing them. */
  private async reapStale(): Promise<void> {
    for (const parent of this.parents.values()) {
      for (const name of await readdir(parent).catch(() => [] as string[])) {
        const owner = Number(/^(\d+)-/.exec(name)?.[1]);
        if (Number.isInteger(owner) && owner !== process.pid && !isProcessAlive(owner)) {
          await removeGroup(join(parent, name));
        }
      }
    }
  }
}
