/** Fetching exactly the commit under test into a fresh directory with real git. */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export class CheckoutError extends Error {
  override readonly name = "CheckoutError";
}

/** `forge.github.clone` plus `owner/name`: a URL, or a directory of repositories (bare or not, with or without .git). */
export function cloneUrl(cloneBase: string, repo: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(cloneBase)) return `${cloneBase.replace(/\/+$/, "")}/${repo}`;
  const plain = join(cloneBase, repo);
  return existsSync(plain) || !existsSync(`${plain}.git`) ? plain : `${plain}.git`;
}

export interface CheckoutOptions {
  readonly cloneBase: string;
  readonly repo: string;
  /** A commit; or a branch name, checked out as fetched. */
  readonly sha: string;
  readonly pull: number | null;
  readonly dir: string;
  /** For https clones of private repositories; passed in git's environment, never on its command line. */
  readonly token?: string;
}

function gitEnv(options: CheckoutOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
  };
  if (options.token && /^https:/i.test(options.cloneBase)) {
    const basic = Buffer.from(`x-access-token:${options.token}`).toString("base64");
    Object.assign(env, {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    });
  }
  return env;
}

async function git(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await run("git", args, { env, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim() ?? String(error);
    throw new CheckoutError(`git ${args[0] === "-C" ? args[2] : args[0]} failed: ${stderr}`);
  }
}

/** Check out `sha` into `dir`; for a PR whose head is only reachable through its pull ref, fetch that. */
export async function checkoutCommit(options: CheckoutOptions): Promise<void> {
  const env = gitEnv(options);
  const url = cloneUrl(options.cloneBase, options.repo);
  await git(["init", "-q", options.dir], env);
  const fetch = ["-C", options.dir, "fetch", "-q", "--no-tags", "--depth=1", url];
  try {
    await git([...fetch, options.sha], env);
  } catch (error) {
    if (options.pull === null) throw error;
    await git([...fetch, `+refs/pull/${options.pull}/head:refs/remotes/pull/head`], env);
  }
  // A branch name (a cross-project job's command repository) is checked out as what the fetch brought.
  const target = /^[0-9a-f]{40}$/i.test(options.sha) ? options.sha : "FETCH_HEAD";
  await git(
    ["-C", options.dir, "-c", "advice.detachedHead=false", "checkout", "-q", "--detach", target],
    env,
  );
}

/** git for reading a checkout's own objects: no system or global config, no pathspec magic. */
function readingEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_LITERAL_PATHSPECS: "1",
    GIT_TERMINAL_PROMPT: "0",
  };
}

/** A path's entry in a commit's tree: git's mode (100644, 100755, 120000 a symlink, 040000 a tree, ...). */
export interface TreeEntry {
  readonly mode: string;
  readonly type: string;
  readonly object: string;
  /** Bytes, for blobs. */
  readonly size?: number;
}

/**
 * The entry at path in the commit checked out in dir, read from git's objects:
 * a symbolic link in the tree is reported as one, never followed (and a path
 * under a symlinked directory does not exist).
 */
export async function commitEntry(dir: string, path: string, rev = "HEAD"): Promise<TreeEntry | undefined> {
  const out = await git(["-C", dir, "ls-tree", "-l", "--full-tree", "-z", rev, "--", path], readingEnv());
  const record = out.split("\0").find((line) => line.endsWith(`\t${path}`));
  if (record === undefined) return undefined;
  const [mode = "", type = "", object = "", size = "-"] = record.slice(0, record.indexOf("\t")).split(/ +/);
  return { mode, type, object, ...(size !== "-" ? { size: Number(size) } : {}) };
}

export type CommitFile =
  | { readonly kind: "missing" }
  | { readonly kind: "not-a-file"; readonly mode: string }
  | { readonly kind: "too-large"; readonly size: number }
  | { readonly kind: "file"; readonly text: string };

/** A regular file of the commit checked out in dir, up to maxBytes, from git's objects. */
export async function readCommitFile(dir: string, path: string, maxBytes: number): Promise<CommitFile> {
  const entry = await commitEntry(dir, path);
  if (entry === undefined) return { kind: "missing" };
  if (entry.type !== "blob" || (entry.mode !== "100644" && entry.mode !== "100755"))
    return { kind: "not-a-file", mode: entry.mode };
  if (entry.size === undefined || entry.size > maxBytes) return { kind: "too-large", size: entry.size ?? -1 };
  return { kind: "file", text: await git(["-C", dir, "cat-file", "blob", entry.object], readingEnv()) };
}
