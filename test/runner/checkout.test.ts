import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { CheckoutError, checkoutCommit, cloneUrl } from "../../src/runner/checkout.js";

const dir = mkdtempSync(join(tmpdir(), "hangar-checkout-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd,
    encoding: "utf8",
  }).trim();

/** A bare repository `owner/name.git` with main and a commit reachable only as refs/pull/1/head. */
function makeRepo(): { main: string; pr: string } {
  const bare = join(dir, "repos", "owner", "name.git");
  mkdirSync(bare, { recursive: true });
  git(bare, "init", "-q", "--bare");
  const work = join(dir, "work");
  git(dir, "clone", "-q", bare, work);
  writeFileSync(join(work, "file"), "main\n");
  git(work, "add", "file");
  git(work, "commit", "-qm", "main");
  git(work, "push", "-q", "origin", "HEAD:refs/heads/main");
  const main = git(work, "rev-parse", "HEAD");
  writeFileSync(join(work, "file"), "pr\n");
  git(work, "commit", "-qam", "pr");
  git(work, "push", "-q", "origin", "HEAD:refs/pull/1/head");
  return { main, pr: git(work, "rev-parse", "HEAD") };
}

describe("checkout", () => {
  const { main, pr } = makeRepo();
  const cloneBase = join(dir, "repos");

  test("clone base: URL gets owner/name appended; a directory finds name or name.git", () => {
    assert.equal(cloneUrl("https://github.com/", "o/r"), "https://github.com/o/r");
    assert.equal(cloneUrl(cloneBase, "owner/name"), join(cloneBase, "owner", "name.git"));
  });

  test("checks out the exact commit", async () => {
    const target = join(dir, "c1");
    await checkoutCommit({ cloneBase, repo: "owner/name", sha: main, pull: null, dir: target });
    assert.equal(readFileSync(join(target, "file"), "utf8"), "main\n");
    assert.equal(git(target, "rev-parse", "HEAD"), main);
  });

  test("a PR head is found through its pull ref", async () => {
    const target = join(dir, "c2");
    await checkoutCommit({ cloneBase, repo: "owner/name", sha: pr, pull: 1, dir: target });
    assert.equal(readFileSync(join(target, "file"), "utf8"), "pr\n");
  });

  test("an unknown repository is a CheckoutError with git's reason", async () => {
    const target = join(dir, "c3");
    await assert.rejects(
      checkoutCommit({ cloneBase, repo: "owner/missing", sha: main, pull: null, dir: target }),
      (error: unknown) => error instanceof CheckoutError && /fetch failed/.test(error.message),
    );
    assert.equal(existsSync(join(target, "file")), false);
  });
});
