import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";

const CLI = fileURLToPath(new URL("../fixtures/image-cli.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "hangar-image-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const config = join(dir, "hangar.yaml");
writeFileSync(
  config,
  stringify({
    store: { driver: "fs", fs: { dir: "store" } },
    worker: { imageCache: { dir: "cache", maxBytes: 1_000_000 } },
  }),
);

function hangar(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, "image", ...args, "--config", config], (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test("upload, list, download -o, prune --dry-run; a corrupted object is rejected", async () => {
  const image = join(dir, "guest.tar");
  writeFileSync(image, "pretend this is a bootable image\n");
  const upload = await hangar("upload", "tiny-vm", image);
  assert.equal(upload.code, 0, upload.stderr);
  const object = /^tiny-vm: (tiny-vm-[0-9a-f]{64}\.tar) /.exec(upload.stdout)?.[1];
  assert.ok(object, upload.stdout);

  const list = await hangar("list");
  assert.match(list.stdout, new RegExp(`^tiny-vm\\t${object}\\t33 B\\t`));

  const target = join(dir, "out.tar");
  const download = await hangar("download", "tiny-vm", "-o", target);
  assert.equal(download.code, 0, download.stderr);
  assert.equal(readFileSync(target, "utf8"), "pretend this is a bootable image\n");
  assert.equal(readFileSync(join(dir, "cache", object), "utf8"), "pretend this is a bootable image\n");

  writeFileSync(join(dir, "second.tar"), "version two\n");
  await hangar("upload", "tiny-vm", join(dir, "second.tar"));
  const dry = await hangar("prune", "--dry-run", "--min-age", "0");
  assert.match(dry.stdout, new RegExp(`would remove images/${object}`));
  assert.match(dry.stdout, /1 object\(s\) would remove/);
  assert.equal(
    readFileSync(join(dir, "store", "images", object), "utf8").length,
    33,
    "dry run removed nothing",
  );

  const current = /^tiny-vm\t(\S+)/.exec((await hangar("list")).stdout)?.[1] ?? "";
  const stored = join(dir, "store", "images", current);
  const bytes = readFileSync(stored);
  bytes[3] = (bytes[3] ?? 0) ^ 1;
  writeFileSync(stored, bytes);
  const rejected = await hangar("download", "tiny-vm", "--cache-dir", join(dir, "fresh-cache"));
  assert.equal(rejected.code, 1);
  assert.match(rejected.stderr, /image tiny-vm rejected: .*SHA-256 .* does not match/);

  const unknown = await hangar("download", "nope");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no image named nope/);
});
