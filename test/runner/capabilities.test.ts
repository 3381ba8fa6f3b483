import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { parseConfig } from "../../src/config/index.js";
import {
  busyboxInitramfs,
  cachedInitramfs,
  detectCapabilities,
  findKernel,
  KVM_MARKER,
  markerInit,
  probeKvm,
  qemuGuestArgs,
} from "../../src/runner/capabilities/index.js";
import { REMEMBER_MS, rememberedProbe } from "../../src/runner/capabilities/remember.js";
import { silentLogger } from "../../src/util/logger.js";
import { BUSYBOX } from "../fixtures/container-image.js";
import { hasCommand, readable, requireTools } from "../fixtures/tools.js";

const dir = mkdtempSync(join(tmpdir(), "hangar-caps-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function fakeQemu(name: string, script: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** A stand-in for /dev/kvm and the kernel: the fake QEMUs never look at them. */
const fakeDevice = join(dir, "kvm");
const fakeKernel = join(dir, "vmlinuz");
writeFileSync(fakeDevice, "");
writeFileSync(fakeKernel, "");
const busyboxMissing = requireTools("building a guest initramfs", [
  readable(BUSYBOX) ? undefined : "busybox",
]);

describe("initramfs", { skip: busyboxMissing }, () => {
  test("is a gzipped newc archive that busybox cpio unpacks to a runnable /init", () => {
    const image = busyboxInitramfs(readFileSync(BUSYBOX), markerInit("hello guest"));
    const archive = join(dir, "initrd.cpio");
    writeFileSync(archive, gunzipSync(image));
    const root = join(dir, "unpacked");
    mkdirSync(root);
    // Device nodes need privileges busybox may lack; the rest must unpack.
    try {
      execFileSync(BUSYBOX, ["cpio", "-i", "-d", "-F", archive], { cwd: root, stdio: "pipe" });
    } catch {
      // Reported through the checks below.
    }
    assert.equal(readFileSync(join(root, "init"), "utf8"), markerInit("hello guest"));
    assert.equal(lstatSync(join(root, "init")).mode & 0o777, 0o755);
    assert.equal(readlinkSync(join(root, "bin", "sh")), "busybox");
    assert.equal(lstatSync(join(root, "bin", "busybox")).size, lstatSync(BUSYBOX).size);
  });

  test("is built once into the cache dir, named by its content", async () => {
    const cache = join(dir, "cache");
    const first = await cachedInitramfs(cache, BUSYBOX, markerInit("x"));
    const again = await cachedInitramfs(cache, BUSYBOX, markerInit("x"));
    const other = await cachedInitramfs(cache, BUSYBOX, markerInit("y"));
    assert.equal(first, again);
    assert.notEqual(first, other);
  });
});

describe("kvm probe", { skip: busyboxMissing }, () => {
  const options = { cacheDir: join(dir, "probe"), device: fakeDevice, kernel: fakeKernel, busybox: BUSYBOX };

  test("says yes when the guest prints its marker", async () => {
    const qemu = fakeQemu("qemu-ok", `echo "${KVM_MARKER}"`);
    const result = await probeKvm({ ...options, qemu, timeoutMs: 60_000 });
    assert.equal(result.available, true, result.reason);
    assert.match(result.reason, /booted/);
  });

  test("passes -enable-kvm to QEMU", async () => {
    const qemu = fakeQemu("qemu-args", `case "$*" in *-enable-kvm*) echo "${KVM_MARKER}";; esac`);
    assert.equal((await probeKvm({ ...options, qemu, timeoutMs: 60_000 })).available, true);
  });

  test("says no, and why, when QEMU hangs; nothing of it keeps running", async () => {
    const token = "sleep 600031";
    const qemu = fakeQemu("qemu-hangs", `exec ${token}`);
    const result = await probeKvm({ ...options, qemu, timeoutMs: 500 });
    assert.deepEqual(result, {
      capability: "kvm",
      available: false,
      reason: "QEMU with KVM did not print the guest marker within 0.5 s",
    });
    const deadline = Date.now() + 10_000;
    while (execFileSync("ps", ["-eo", "args="]).toString().includes(token)) {
      assert.ok(Date.now() < deadline, "the hung QEMU must be killed");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  test("says no with QEMU's own error when it exits early", async () => {
    const qemu = fakeQemu(
      "qemu-fails",
      "echo 'Could not access KVM kernel module: Permission denied' >&2; exit 1",
    );
    const result = await probeKvm({ ...options, qemu, timeoutMs: 60_000 });
    assert.equal(result.available, false);
    assert.match(result.reason, /exited \(code 1\).*Could not access KVM kernel module/);
  });

  test("says no without a device, a kernel or QEMU", async () => {
    assert.equal(
      (await probeKvm({ ...options, device: join(dir, "none"), timeoutMs: 1000 })).reason,
      `no ${join(dir, "none")}`,
    );
    const noQemu = await probeKvm({ ...options, qemu: join(dir, "no-qemu"), timeoutMs: 60_000 });
    assert.match(noQemu.reason, /no-qemu/);
  });

  test("a capability the config asserts is not probed; a probe that says no adds nothing", async () => {
    const hangs = fakeQemu("qemu-hangs-2", "exec sleep 600");
    const asserted = parseConfig(
      { worker: { capabilities: ["kvm", "browser"], probes: { kvm: { qemu: hangs } } } },
      "t",
      dir,
    );
    const forced = await detectCapabilities(asserted.config, { cacheDir: dir, logger: silentLogger() });
    assert.deepEqual(forced, { capabilities: ["browser", "kvm"], probes: [] });
    const disabled = parseConfig({ worker: { probes: { kvm: { enabled: false } } } }, "t", dir);
    assert.deepEqual(await detectCapabilities(disabled.config, { cacheDir: dir, logger: silentLogger() }), {
      capabilities: [],
      probes: [],
    });
  });

  const kernelMissing = requireTools("the real kvm probe", [
    existsSync("/boot") && readable("/boot") ? undefined : "/boot",
    hasCommand("qemu-system-x86_64") ? undefined : "qemu-system-x86_64",
  ]);

  test("on this host (where QEMU with KVM hangs or aborts) the real probe says no, and why", {
    skip: kernelMissing,
  }, async () => {
    const probe = await probeKvm({ cacheDir: join(dir, "real"), timeoutMs: 5000 });
    assert.equal(probe.available, false);
    assert.ok(probe.reason.length > 0);
    // Machines of this kind have shown both: QEMU hanging, and QEMU aborting on an MSR it cannot set.
    if (existsSync("/dev/kvm"))
      assert.match(
        probe.reason,
        /^QEMU with KVM (did not print the guest marker within 5 s|exited \(\w+\) before the guest marker: .+)$/,
      );
  });

  test("a probe's result is shared for a while, then probed again", async () => {
    let probed = 0;
    const probe = async () => {
      probed++;
      return { capability: "kvm", available: false, reason: "test" };
    };
    const results = join(dir, "remembered");
    let clock = 1_000_000;
    const now = () => clock;
    assert.equal((await rememberedProbe({ qemu: "x" }, probe, results, now)).cached, false);
    assert.deepEqual(await rememberedProbe({ qemu: "x" }, probe, results, now), {
      result: { capability: "kvm", available: false, reason: "test" },
      cached: true,
    });
    assert.equal((await rememberedProbe({ qemu: "other" }, probe, results, now)).cached, false);
    clock += REMEMBER_MS;
    assert.equal((await rememberedProbe({ qemu: "x" }, probe, results, now)).cached, false);
    assert.equal(probed, 3);
  });
});

describe("the probe's guest", () => {
  const skip = requireTools("booting a guest with QEMU (TCG)", [
    hasCommand("qemu-system-x86_64") ? undefined : "qemu-system-x86_64",
    readable(BUSYBOX) ? undefined : "busybox",
    existsSync("/boot") && readable("/boot") ? undefined : "/boot",
  ]);

  test("really boots without KVM and prints its marker", { skip }, async () => {
    const kernel = await findKernel();
    assert.ok(kernel, "a kernel in /boot (linux-image-amd64)");
    const initrd = await cachedInitramfs(join(dir, "tcg"), BUSYBOX, markerInit("hangar-test-guest: up"));
    const qemu = spawn("qemu-system-x86_64", qemuGuestArgs({ kernel, initrd, kvm: false }), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    qemu.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("latin1");
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => qemu.kill("SIGKILL"), 120_000);
      qemu.on("exit", (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    assert.match(output, /hangar-test-guest: up/);
    assert.equal(code, 0, "the guest powered off");
  });
});
