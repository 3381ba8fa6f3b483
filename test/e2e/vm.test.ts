/**
 * A real VM job, end to end through the queue: one repository's job builds a
 * tiny bootable image (the host's Debian kernel and a busybox initramfs) and
 * uploads it with `hangar image upload`; another repository's job downloads
 * it by name and boots it with QEMU (KVM when the worker has it, TCG
 * otherwise). Then a byte of the stored image is flipped, and the download
 * must reject it.
 *
 * Jobs run sandboxed: they see no directory of the deployment, so the store
 * (the deployment's and the jobs') is an S3 server they reach over the
 * network, as a trusted job of a real deployment reaches its object store.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse, stringify } from "yaml";
import type { ConfigInput } from "../../src/config/index.js";
import { probeKvm } from "../../src/runner/capabilities/index.js";
import { BUSYBOX } from "../fixtures/container-image.js";
import { hasCommand, readable, requireTools } from "../fixtures/tools.js";
import { S3RVER_CREDENTIALS, type S3Server, startS3rver } from "../store/s3rver.js";
import { type Deployment, isFinal, sh, startDeployment, waitForStatuses } from "./harness.js";

const GUEST_LINE = "hangar-vm-e2e: the guest says hello";
const STORE_SECRET = "hangar-store";

/** `.hangar/run` of the image-build repository. */
const BUILD = `work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kernel=$(ls /boot/vmlinuz-* | tail -n 1)
mkdir -p "$work/root/bin" "$work/root/dev" "$work/root/proc" "$work/image"
cp ${BUSYBOX} "$work/root/bin/busybox"
ln -s busybox "$work/root/bin/sh"
printf '#!/bin/sh\\n/bin/busybox echo "%s"\\n/bin/busybox poweroff -f\\n' "$GUEST_LINE" > "$work/root/init"
chmod 755 "$work/root/init"
(cd "$work/root" && ${BUSYBOX} find . | ${BUSYBOX} cpio -o -H newc | ${BUSYBOX} gzip -1) > "$work/image/initrd.gz"
cp "$kernel" "$work/image/vmlinuz"
tar -C "$work/image" -cf "$work/tiny-vm.tar" vmlinuz initrd.gz
echo "built an image from $kernel"
"$HANGAR_NODE" "$HANGAR_CLI" image upload tiny-vm "$work/tiny-vm.tar" --config "$HANGAR_SECRETS_DIR/${STORE_SECRET}"`;

/** `.hangar/run` of the repository whose test boots the image. */
const BOOT = `work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$HANGAR_NODE" "$HANGAR_CLI" image download tiny-vm -o "$work/tiny-vm.tar" --config "$HANGAR_SECRETS_DIR/${STORE_SECRET}"
tar -C "$work" -xf "$work/tiny-vm.tar"
case ",$HANGAR_CAPABILITIES," in
  *,kvm,*) accel="-enable-kvm -cpu host"; echo "booting with KVM" ;;
  *) accel=""; echo "booting with TCG (software emulation)" ;;
esac
timeout 300 qemu-system-x86_64 $accel -nodefaults -no-user-config -nographic -serial stdio -monitor none \\
  -m 256 -kernel "$work/vmlinuz" -initrd "$work/initrd.gz" -append "console=ttyS0 quiet panic=-1" -no-reboot \\
  </dev/null >"$work/console" 2>&1 || true
cat "$work/console"
grep -q "$GUEST_LINE" "$work/console"`;

const skip = requireTools("the VM end-to-end test", [
  hasCommand("qemu-system-x86_64") ? undefined : "qemu-system-x86_64",
  readable(BUSYBOX) ? undefined : "busybox (busybox-static)",
  readable("/boot") && readdirSync("/boot").some((n) => n.startsWith("vmlinuz-"))
    ? undefined
    : "a kernel in /boot (linux-image-amd64)",
]);

const BUCKET = "hangar-vm";

describe("a VM image built by one job and booted by another", { skip }, () => {
  let s3: S3Server;
  let deployment: Deployment;
  let probeDir: string | undefined;

  before(async () => {
    // Where KVM works (the worker's own probe says so), the jobs ask for it and get /dev/kvm in their sandbox.
    probeDir = mkdtempSync(join(tmpdir(), "hangar-vm-probe-"));
    const probe = await probeKvm({ cacheDir: probeDir, timeoutMs: 60_000 });
    const KVM = probe.available ? ["kvm"] : [];
    s3 = await startS3rver();
    const store = {
      driver: "s3" as const,
      s3: { url: await s3.bucket(BUCKET), ...S3RVER_CREDENTIALS, acl: "public-read" as const },
    };
    const job = { secrets: [STORE_SECRET], env: { GUEST_LINE }, timeout: 10, capabilities: KVM };
    deployment = await startDeployment({
      worker: { name: "vm-worker", capabilities: KVM },
      projects: {
        "acme/images": { branches: { main: [{ name: "image-build", ...job }] } },
        "acme/vm-test": { branches: { main: [{ name: "boot", ...job }] } },
      },
      trust: { users: ["alice"] },
      store,
    });
    // The worker hands trusted jobs a store config as a secret; it names the deployment's own store.
    await deployment.kill();
    const config = parse(readFileSync(deployment.configFile, "utf8")) as ConfigInput;
    writeFileSync(join(deployment.dir, "job-store.yaml"), stringify({ store }), { mode: 0o600 });
    const worker = { ...config.worker, secrets: { [STORE_SECRET]: { file: "job-store.yaml" } } };
    writeFileSync(deployment.configFile, stringify({ ...config, worker }));
    await deployment.restart();
    await deployment.emulator.createRepo({ repo: "acme/images", files: { ".hangar/run": sh(BUILD) } });
    await deployment.emulator.createRepo({ repo: "acme/vm-test", files: { ".hangar/run": sh(BOOT) } });
  });
  after(async () => {
    await deployment?.stop();
    await s3?.close();
    if (probeDir) rmSync(probeDir, { recursive: true, force: true });
  });

  async function runPull(repo: string, context: string) {
    const pull = await deployment.emulator.openPull({
      repo,
      author: "alice",
      files: { "x.txt": `${Date.now()}\n` },
    });
    const statuses = await waitForStatuses(deployment, repo, pull.sha, context, isFinal, 300_000);
    const final = statuses.at(-1);
    const log = await (await fetch(new URL("log", final?.target_url ?? ""))).text();
    return { statuses, final, log };
  }

  test("the image-build job uploads the image; the boot job downloads it and sees the guest's line", async () => {
    const build = await runPull("acme/images", "image-build");
    assert.equal(build.final?.description, "Success [vm-worker]", build.log);
    assert.match(build.log, /tiny-vm: tiny-vm-[0-9a-f]{64}\.tar/);
    const boot = await runPull("acme/vm-test", "boot");
    assert.deepEqual(
      boot.statuses.map((s) => [s.state, s.description]),
      [
        ["pending", "Not yet tested"],
        ["pending", "In progress [vm-worker]"],
        ["success", "Success [vm-worker]"],
      ],
      boot.log,
    );
    assert.match(boot.log, /booting with (KVM|TCG)/);
    assert.match(boot.log, new RegExp(GUEST_LINE));
  });

  test("after a byte of the stored image flips, the boot job's download rejects it", async () => {
    // s3rver keeps each object in a file of its own, named after the key.
    const images = join(s3.dir, BUCKET, "images");
    const object = readdirSync(images).find(
      (name) => name.startsWith("tiny-vm-") && name.endsWith("._S3rver_object"),
    );
    assert.ok(object, "the image is in the store");
    const path = join(images, object);
    const bytes = readFileSync(path);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0x01;
    writeFileSync(path, bytes);
    const boot = await runPull("acme/vm-test", "boot");
    assert.equal(boot.final?.state, "failure");
    assert.match(boot.log, /image tiny-vm rejected: .*does not match/);
    assert.doesNotMatch(boot.log, /booting with/);
  });
});
