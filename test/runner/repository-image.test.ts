/**
 * `.hangar/container` (or `.cockpit-ci/container`) comes from git's objects of
 * the checked-out commit: a symlink is refused, never followed; the size is
 * capped; the name has a strict format; errors quote none of the file.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { commitEntry } from "../../src/runner/checkout.js";
import { isValidImageName, JobFailure, MAX_CONTAINER_FILE, repositoryImage } from "../../src/runner/job.js";

const dir = mkdtempSync(join(tmpdir(), "hangar-repo-image-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = "host-secret-value-0123456789";
const secretFile = join(dir, "worker-secret");
writeFileSync(secretFile, `${SECRET}\n`);

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd, encoding: "utf8" });

type Entry = string | { readonly symlink: string } | { readonly executable: string };

/** A checkout whose HEAD commit holds exactly these files. */
function checkout(files: Record<string, Entry>): string {
  const root = mkdtempSync(join(dir, "checkout-"));
  git(root, "init", "-q");
  for (const [path, entry] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    if (typeof entry === "string") writeFileSync(join(root, path), entry);
    else if ("symlink" in entry) symlinkSync(entry.symlink, join(root, path));
    else writeFileSync(join(root, path), entry.executable, { mode: 0o755 });
  }
  git(root, "add", "-A");
  git(root, "commit", "-qm", "test", "--allow-empty");
  return root;
}

async function failure(root: string): Promise<string> {
  const error = await repositoryImage(root).then(
    () => assert.fail("expected a JobFailure"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof JobFailure, String(error));
  return error.message;
}

test(".hangar/container names the image; comments and blank lines are skipped", async () => {
  const root = checkout({ ".hangar/container": "# our image\n\n  quay.io/acme/tasks:latest  \n" });
  assert.equal(await repositoryImage(root), "quay.io/acme/tasks:latest");
});

test(".cockpit-ci/container counts only when there is no .hangar/", async () => {
  assert.equal(
    await repositoryImage(checkout({ ".cockpit-ci/container": "ghcr.io/cockpit/tasks\n" })),
    "ghcr.io/cockpit/tasks",
  );
  const both = checkout({
    ".hangar/run": { executable: "#!/bin/sh\n" },
    ".cockpit-ci/container": "ghcr.io/cockpit/tasks\n",
  });
  assert.equal(await repositoryImage(both), undefined);
});

test("no container file: no image", async () => {
  assert.equal(await repositoryImage(checkout({ "README.md": "hi\n" })), undefined);
});

test("the commit's file counts, not what the working tree has now", async () => {
  const root = checkout({ ".hangar/container": "quay.io/acme/committed\n" });
  writeFileSync(join(root, ".hangar/container"), "quay.io/acme/changed-after-checkout\n");
  assert.equal(await repositoryImage(root), "quay.io/acme/committed");
});

test("a symlinked container file is a job failure that shows nothing of its target", async () => {
  for (const target of [secretFile, "/proc/self/environ", "../README.md"]) {
    const root = checkout({ ".hangar/container": { symlink: target }, "README.md": `${SECRET}\n` });
    const message = await failure(root);
    assert.match(message, /\.hangar\/container is not a regular file \(git mode 120000\)/);
    assert.equal(message.includes(SECRET), false);
  }
});

test("a symlinked .hangar directory is not followed", async () => {
  const outside = mkdtempSync(join(dir, "outside-"));
  writeFileSync(join(outside, "container"), "quay.io/acme/from-outside\n");
  const root = checkout({ ".hangar": { symlink: outside } });
  assert.equal(await repositoryImage(root), undefined);
  assert.equal(await commitEntry(root, ".hangar/container"), undefined);
  assert.equal((await commitEntry(root, ".hangar"))?.mode, "120000");
});

test("a container file over the size cap is refused", async () => {
  const big = `quay.io/acme/tasks\n${"#".repeat(MAX_CONTAINER_FILE)}\n`;
  assert.match(await failure(checkout({ ".hangar/container": big })), /larger than 4096 bytes/);
  const fits = `${"#".repeat(MAX_CONTAINER_FILE - 20)}\nquay.io/acme/t\n`;
  assert.equal(await repositoryImage(checkout({ ".hangar/container": fits })), "quay.io/acme/t");
});

test("a bad image name is a job failure that does not echo it", async () => {
  for (const name of [
    `--privileged`,
    `-v/:/host`,
    `quay.io/acme/x ${SECRET}`,
    `Quay.io/x`,
    `a;rm -rf /`,
    `$(id)`,
  ]) {
    const message = await failure(checkout({ ".hangar/container": `${name}\n` }));
    assert.match(message, /does not name a valid container image/);
    assert.equal(message.includes(name), false, name);
  }
});

test("image names: a docker reference charset, never an option", () => {
  for (const good of ["debian", "quay.io/cockpit/tasks:2024-01-02", "localhost/x@sha256:" + "a".repeat(64)])
    assert.equal(isValidImageName(good), true, good);
  for (const bad of ["", "-x", ".x", "x y", "x\ny", "x'", "a".repeat(256)])
    assert.equal(isValidImageName(bad), false, JSON.stringify(bad));
});
