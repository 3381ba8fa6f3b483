/**
 * bwrap runs as the sandbox user and opens every bind source as that user, so
 * a job directory under a directory it cannot pass (a 0700 /root, a 0700 temp
 * directory of a test) could not be bound. Rather than loosening the host's
 * permissions, such a source is "staged": before dropping privileges, the
 * launcher enters a mount namespace of its own (private, gone with the job)
 * and bind-mounts the source onto a fixed mount point under STAGE_DIR, which
 * the sandbox user can reach; bwrap then binds it from there. The mount points
 * are shared by all jobs: each job's namespace mounts its own sources on them.
 */
import { lstat, mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";

export const STAGE_DIR = "/run/hangar-sandbox";

export interface StagedSource {
  /** What the launcher mounts ... */
  readonly source: string;
  /** ... where, inside its private mount namespace. */
  readonly mountPoint: string;
}

interface Identity {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
}

function isInside(path: string, parent: string): boolean {
  const rel = relative(parent, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`));
}

function searchable(info: { uid: number; gid: number; mode: number }, who: Identity): boolean {
  if (info.uid === who.uid) return (info.mode & 0o100) !== 0;
  if (info.gid === who.gid || who.groups.includes(info.gid)) return (info.mode & 0o010) !== 0;
  return (info.mode & 0o001) !== 0;
}

/** Whether the sandbox user can pass every directory above path (by the mode bits; ACLs aside). */
async function reachable(path: string, who: Identity): Promise<boolean> {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const info = await stat(dir).catch(() => undefined);
    if (info === undefined || !searchable(info, who)) return false;
    if (dir === dirname(dir)) return true;
  }
}

/** The staging directory, made if needed, and refused unless only root can change it. */
async function stageDir(): Promise<string> {
  await mkdir(STAGE_DIR, { recursive: true, mode: 0o755 });
  const info = await lstat(STAGE_DIR);
  if (!info.isDirectory() || info.uid !== 0 || (info.mode & 0o022) !== 0) {
    throw new Error(`${STAGE_DIR} must be a directory owned by root and writable by root only`);
  }
  return STAGE_DIR;
}

/** Decides, per bind source, where bwrap reads it from; collects what the launcher must stage. */
export class Staging {
  readonly staged: StagedSource[] = [];

  constructor(private readonly who: Identity) {}

  /** The path bwrap should bind for host path `path` (itself, or its staged mount point). */
  async source(path: string): Promise<string> {
    const covering = this.staged.find((s) => isInside(path, s.source));
    if (covering) return join(covering.mountPoint, relative(covering.source, path));
    if (await reachable(path, this.who)) return path;
    const isDir = (await stat(path)).isDirectory();
    // Mount points of the right kind: a directory for a directory, a file for a file.
    const mountPoint = join(await stageDir(), `${isDir ? "d" : "f"}${this.staged.length}`);
    if (isDir) await mkdir(mountPoint, { recursive: true, mode: 0o755 });
    else await writeFile(mountPoint, "", { flag: "a", mode: 0o644 });
    this.staged.push({ source: path, mountPoint });
    return mountPoint;
  }
}
