/** Booting a tiny Linux guest with QEMU: the host's own kernel plus a busybox initramfs. */
import { readdir } from "node:fs/promises";
import { join } from "node:path";

export const BUSYBOX_CANDIDATES = ["/bin/busybox", "/usr/bin/busybox"] as const;

/** The newest /boot/vmlinuz-* by version-aware name order, or undefined when there is none. */
export async function findKernel(bootDir = "/boot"): Promise<string | undefined> {
  const names = (await readdir(bootDir).catch(() => [] as string[])).filter((n) => n.startsWith("vmlinuz-"));
  names.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const newest = names.at(-1);
  return newest === undefined ? undefined : join(bootDir, newest);
}

export interface GuestBoot {
  readonly kernel: string;
  readonly initrd: string;
  readonly kvm: boolean;
  readonly memoryMb?: number;
}

/** QEMU arguments for a headless guest whose console is QEMU's stdout and that never reboots. */
export function qemuGuestArgs(boot: GuestBoot): string[] {
  return [
    ...(boot.kvm ? ["-enable-kvm", "-cpu", "host"] : []),
    "-nodefaults",
    "-no-user-config",
    "-nographic",
    "-serial",
    "stdio",
    "-monitor",
    "none",
    "-m",
    String(boot.memoryMb ?? 256),
    "-kernel",
    boot.kernel,
    "-initrd",
    boot.initrd,
    "-append",
    "console=ttyS0 quiet panic=-1",
    "-no-reboot",
  ];
}
