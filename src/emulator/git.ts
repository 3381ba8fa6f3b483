/**
 * Real bare git repositories for the emulator. Commits are made with plumbing and a private
 * index file, so no work tree is needed and the user's git config plays no part.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A file's text, or text plus the executable bit, or a symbolic link to `symlink`; null deletes the file. */
export type FileContent =
  | string
  | { readonly content: string; readonly executable?: boolean | undefined }
  | { readonly symlink: string }
  | null;

/** The git mode and blob text of a file entry: a symlink's blob is its target. */
function entryOf(content: Exclude<FileContent, null>): { mode: string; text: string } {
  if (typeof content === "string") return { mode: "100644", text: content };
  if ("symlink" in content) return { mode: "120000", text: content.symlink };
  return { mode: content.executable ? "100755" : "100644", text: content.content };
}
export type FileMap = Readonly<Record<string, FileContent>>;

export interface GitIdentity {
  readonly name: string;
  readonly email: string;
}

export class GitError extends Error {
  override readonly name = "GitError";
}

const CLEAN_ENV = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
  LANG: "C",
};

export function git(
  gitDir: string,
  args: readonly string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      [`--git-dir=${gitDir}`, ...args],
      { env: { ...CLEAN_ENV, ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new GitError(`git ${args[0] ?? ""} failed: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      },
    );
    // A git command that does not read its input may exit first; its exit code tells what matters.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(options.input ?? "");
  });
}

export async function initBare(gitDir: string, defaultBranch: string): Promise<void> {
  await mkdir(gitDir, { recursive: true });
  await git(gitDir, ["init", "--quiet", "--bare", `--initial-branch=${defaultBranch}`]);
  // Runners fetch a PR's head by its sha; allow that over any protocol version.
  await git(gitDir, ["config", "uploadpack.allowAnySHA1InWant", "true"]);
}

/** Makes a commit of `files` on top of `parent` (or a root commit) and returns its sha. No ref moves. */
export async function commitFiles(
  gitDir: string,
  parent: string | null,
  files: FileMap,
  message: string,
  author: GitIdentity,
): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), "hangar-emu-index-"));
  try {
    const env = {
      GIT_INDEX_FILE: join(scratch, "index"),
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: author.name,
      GIT_COMMITTER_EMAIL: author.email,
    };
    if (parent !== null) await git(gitDir, ["read-tree", parent], { env });
    // One index-info line per file; mode 0 removes the path from the index.
    const lines: string[] = [];
    for (const [path, content] of Object.entries(files)) {
      const clean = cleanPath(path);
      if (content === null) {
        lines.push(`0 ${"0".repeat(40)}\t${clean}`);
        continue;
      }
      const { mode, text } = entryOf(content);
      const blob = (await git(gitDir, ["hash-object", "-w", "--stdin"], { input: text, env })).trim();
      lines.push(`${mode} ${blob}\t${clean}`);
    }
    if (lines.length > 0)
      await git(gitDir, ["update-index", "-z", "--index-info"], { input: `${lines.join("\0")}\0`, env });
    const tree = (await git(gitDir, ["write-tree"], { env })).trim();
    const parentArgs = parent === null ? [] : ["-p", parent];
    return (await git(gitDir, ["commit-tree", tree, ...parentArgs], { input: message, env })).trim();
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export async function updateRef(gitDir: string, ref: string, sha: string): Promise<void> {
  await git(gitDir, ["update-ref", ref, sha]);
}

/** The commit sha a ref (branch, tag, sha, short sha) names, or null. */
export async function resolveCommit(gitDir: string, ref: string): Promise<string | null> {
  if (ref.startsWith("-")) return null;
  try {
    return (await git(gitDir, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])).trim() || null;
  } catch {
    return null;
  }
}

export interface Comparison {
  /** null when the two commits share no history. */
  readonly mergeBase: string | null;
  /** Commits of head that base lacks, oldest first. */
  readonly ahead: readonly string[];
  /** How many commits of base head lacks. */
  readonly behindBy: number;
}

/** What GitHub's compare API reports of `base...head` (both full commit shas). */
export async function compareCommits(gitDir: string, base: string, head: string): Promise<Comparison> {
  const mergeBase = (await git(gitDir, ["merge-base", base, head]).catch(() => "")).trim() || null;
  const ahead = (await git(gitDir, ["rev-list", "--reverse", `${base}..${head}`]))
    .split("\n")
    .filter(Boolean);
  const behindBy = Number((await git(gitDir, ["rev-list", "--count", `${head}..${base}`])).trim());
  return { mergeBase, ahead, behindBy };
}

export type TreeEntry = { type: "blob" | "tree"; mode: string; sha: string; path: string; size: number };

/** What lies at `path` in a commit: a blob, a directory listing, or null. */
export async function readPath(
  gitDir: string,
  commit: string,
  path: string,
): Promise<
  { kind: "file"; entry: TreeEntry; content: Buffer } | { kind: "dir"; entries: TreeEntry[] } | null
> {
  const clean = path.replace(/^\/+|\/+$/g, "");
  const entries = await listTree(gitDir, commit, clean === "" ? "" : `${clean}/`);
  if (clean === "") return { kind: "dir", entries };
  const parent = clean.includes("/") ? `${clean.slice(0, clean.lastIndexOf("/"))}/` : "";
  const self = (await listTree(gitDir, commit, parent)).find((entry) => entry.path === clean);
  if (self === undefined) return null;
  if (self.type === "tree") return { kind: "dir", entries };
  const content = await gitBuffer(gitDir, ["cat-file", "blob", self.sha]);
  return { kind: "file", entry: self, content };
}

async function listTree(gitDir: string, commit: string, prefix: string): Promise<TreeEntry[]> {
  const out = await git(gitDir, ["ls-tree", "-z", "--long", `${commit}:${prefix}`]).catch(() => "");
  const entries: TreeEntry[] = [];
  for (const line of out.split("\0")) {
    const match = /^(\d+) (blob|tree|commit) ([0-9a-f]+) +(-|\d+)\t(.*)$/s.exec(line);
    if (!match || match[2] === "commit") continue;
    entries.push({
      mode: match[1] ?? "",
      type: match[2] as "blob" | "tree",
      sha: match[3] ?? "",
      size: match[4] === "-" ? 0 : Number(match[4]),
      path: `${prefix}${match[5] ?? ""}`,
    });
  }
  return entries;
}

function gitBuffer(gitDir: string, args: readonly string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      [`--git-dir=${gitDir}`, ...args],
      { env: CLEAN_ENV, encoding: "buffer", maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => (error ? reject(new GitError(`git ${args[0] ?? ""} failed`)) : resolve(stdout)),
    );
  });
}

function cleanPath(path: string): string {
  const clean = path.replace(/^\/+/, "");
  if (
    clean === "" ||
    clean.split("/").some((part) => part === "" || part === "." || part === ".." || part === ".git")
  ) {
    throw new GitError(`invalid file path ${JSON.stringify(path)}`);
  }
  return clean;
}
