/**
 * The `kvm` probe. /dev/kvm existing (or even answering ioctls) proves
 * nothing: on some hosts QEMU with KVM hangs. So the probe boots a real
 * guest with `-enable-kvm` and says yes only if it prints its marker in time.
 */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { BUSYBOX_CANDIDATES, findKernel, qemuGuestArgs } from "./guest.js";
import { cachedInitramfs, markerInit } from "./initramfs.js";
import type { ProbeResult } from "./types.js";

export const KVM_MARKER = "hangar-kvm-probe: guest is up";

export interface KvmProbeOptions {
  /** Where the probe's initramfs is built once. */
  readonly cacheDir: string;
  readonly timeoutMs: number;
  readonly qemu?: string;
  readonly kernel?: string;
  readonly busybox?: string;
  readonly device?: string;
}

async function firstAccessible(paths: readonly string[], mode: number): Promise<string | undefined> {
  for (const path of paths) {
    if (
      await access(path, mode).then(
        () => true,
        () => false,
      )
    )
      return path;
  }
  return undefined;
}

function no(reason: string): ProbeResult {
  return { capability: "kvm", available: false, reason };
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** Boot the guest; resolve with why it failed, or undefined once the marker shows. */
function bootWithKvm(qemu: string, args: string[], timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    // `timeout` kills QEMU even if this process dies first (a hung KVM guest would spin forever).
    const limit = String(Math.ceil(timeoutMs / 1000) + 1);
    const child = spawn("timeout", ["--signal=KILL", limit, qemu, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    let stderr = "";
    let settled = false;
    const settle = (why: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
      resolve(why);
    };
    const timer = setTimeout(
      () => settle(`QEMU with KVM did not print the guest marker within ${seconds(timeoutMs)}`),
      timeoutMs,
    );
    child.stdout.on("data", (chunk: Buffer) => {
      output = (output + chunk.toString("latin1")).slice(-4096);
      if (output.includes(KVM_MARKER)) settle(undefined);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-4096);
    });
    child.on("error", (error) => settle(`cannot run timeout(1) for ${qemu}: ${error.message}`));
    child.on("exit", (code, signal) => {
      // Output may still be in the pipe: give it the close event to arrive.
      child.on("close", () => {
        if (output.includes(KVM_MARKER)) return settle(undefined);
        const last = stderr.trim().split("\n").at(-1) ?? "";
        settle(
          `QEMU with KVM exited (${signal ?? `code ${code}`}) before the guest marker${last ? `: ${last}` : ""}`,
        );
      });
    });
  });
}

export async function probeKvm(options: KvmProbeOptions): Promise<ProbeResult> {
  const device = options.device ?? "/dev/kvm";
  if (
    !(await access(device, constants.F_OK).then(
      () => true,
      () => false,
    ))
  )
    return no(`no ${device}`);
  if (
    !(await access(device, constants.R_OK | constants.W_OK).then(
      () => true,
      () => false,
    ))
  ) {
    return no(`${device} is not readable and writable by this user`);
  }
  const kernel = options.kernel ?? (await findKernel());
  if (kernel === undefined) return no("no kernel (/boot/vmlinuz-*) to boot a test guest with");
  const busybox = options.busybox
    ? options.busybox
    : await firstAccessible(BUSYBOX_CANDIDATES, constants.R_OK);
  if (busybox === undefined) return no("no static busybox to build a test guest with");
  let initrd: string;
  try {
    initrd = await cachedInitramfs(options.cacheDir, busybox, markerInit(KVM_MARKER));
  } catch (error) {
    return no(`cannot build the test guest: ${(error as Error).message}`);
  }
  const qemu = options.qemu ?? "qemu-system-x86_64";
  const started = Date.now();
  const failure = await bootWithKvm(qemu, qemuGuestArgs({ kernel, initrd, kvm: true }), options.timeoutMs);
  if (failure !== undefined) return no(failure);
  return {
    capability: "kvm",
    available: true,
    reason: `a KVM guest booted in ${seconds(Date.now() - started)}`,
  };
}
