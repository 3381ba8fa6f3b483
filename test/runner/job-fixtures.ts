/** What tests of whole jobs share: a real git repository to clone, and a forge that records statuses. */
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { CommitStatus, Forge } from "../../src/forge/types.js";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], {
    cwd,
    encoding: "utf8",
  }).trim();

/** A file's content, or a symbolic link to target. */
export type RepositoryFile = string | { readonly symlink: string };

/** A repository `repo` under cloneBase whose one commit holds files (scripts, starting with #!, executable); its sha. */
export function makeRepository(
  cloneBase: string,
  repo: string,
  files: Record<string, RepositoryFile>,
): string {
  const root = join(cloneBase, repo);
  mkdirSync(root, { recursive: true });
  git(root, "init", "-q");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    if (typeof content !== "string") symlinkSync(content.symlink, join(root, path));
    else writeFileSync(join(root, path), content, { mode: content.startsWith("#!") ? 0o755 : 0o644 });
  }
  git(root, "add", "-A");
  git(root, "commit", "-qm", "test");
  return git(root, "rev-parse", "HEAD");
}

/** A forge that keeps the statuses posted; everything else is not needed by the runner. */
export function recordingForge(posted: CommitStatus[]): Forge {
  const unused = () => Promise.reject(new Error("not used by the runner"));
  return {
    getPull: unused,
    listOpenPulls: unused,
    getStatuses: async () => new Map(),
    postStatus: async (_repo, _sha, status) => {
      posted.push(status);
    },
    readFile: unused,
    isOrgMember: unused,
    createIssue: unused,
    comment: unused,
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
