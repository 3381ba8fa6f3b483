import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { repositoryImage } from "../../src/runner/job.js";

const dir = mkdtempSync(join(tmpdir(), "hangar-repo-image-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function checkout(files: Record<string, string>): string {
  const root = mkdtempSync(join(dir, "checkout-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
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
  const both = checkout({ ".hangar/run": "#!/bin/sh\n", ".cockpit-ci/container": "ghcr.io/cockpit/tasks\n" });
  assert.equal(await repositoryImage(both), undefined);
});

test("no container file: no image", async () => {
  assert.equal(await repositoryImage(checkout({ "README.md": "hi\n" })), undefined);
});
