/**
 * A minimal initramfs (the kernel's "newc" cpio format, gzipped) holding a
 * static busybox and an /init script: enough for a guest that prints a line
 * and powers off. Built in process, so probes need no cpio tool.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

type CpioEntry =
  | { readonly kind: "dir"; readonly path: string }
  | { readonly kind: "file"; readonly path: string; readonly data: Buffer; readonly mode: number }
  | { readonly kind: "symlink"; readonly path: string; readonly target: string }
  | { readonly kind: "char"; readonly path: string; readonly major: number; readonly minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, "0");
}

function record(ino: number, name: string, mode: number, data: Buffer, rdev: [number, number] = [0, 0]) {
  const nameBytes = Buffer.from(`${name}\0`);
  const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
  const header = Buffer.from(`070701${fields.map(hex8).join("")}`, "ascii");
  return [header, nameBytes, pad4(header.length + nameBytes.length), data, pad4(data.length)];
}

/** The archive for these entries: parents must come before their children. */
export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((entry, index) => {
    const ino = index + 1;
    switch (entry.kind) {
      case "dir":
        parts.push(...record(ino, entry.path, S_IFDIR | 0o755, Buffer.alloc(0)));
        break;
      case "file":
        parts.push(...record(ino, entry.path, S_IFREG | entry.mode, entry.data));
        break;
      case "symlink":
        parts.push(...record(ino, entry.path, S_IFLNK | 0o777, Buffer.from(entry.target)));
        break;
      case "char":
        parts.push(...record(ino, entry.path, S_IFCHR | 0o600, Buffer.alloc(0), [entry.major, entry.minor]));
        break;
    }
  });
  parts.push(...record(0, "TRAILER!!!", 0, Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/** The /init of a guest that prints `marker` on its console and powers off at once. */
export function markerInit(marker: string): string {
  return `#!/bin/sh\necho ${JSON.stringify(marker)}\npoweroff -f\n`;
}

/** A gzipped initramfs whose /init runs `init` with busybox as /bin/sh. */
export function busyboxInitramfs(busybox: Buffer, init: string): Buffer {
  return gzipSync(
    cpioArchive([
      { kind: "dir", path: "bin" },
      { kind: "dir", path: "dev" },
      { kind: "dir", path: "proc" },
      { kind: "dir", path: "sys" },
      { kind: "char", path: "dev/console", major: 5, minor: 1 },
      { kind: "file", path: "bin/busybox", data: busybox, mode: 0o755 },
      { kind: "symlink", path: "bin/sh", target: "busybox" },
      { kind: "symlink", path: "bin/echo", target: "busybox" },
      { kind: "symlink", path: "bin/poweroff", target: "busybox" },
      { kind: "file", path: "init", data: Buffer.from(init), mode: 0o755 },
    ]),
  );
}

/**
 * The initramfs for `init`, built once into `cacheDir` (named by its content,
 * written to a temp name and renamed, so concurrent builders never see half a file).
 */
export async function cachedInitramfs(cacheDir: string, busyboxPath: string, init: string): Promise<string> {
  const busybox = await readFile(busyboxPath);
  const image = busyboxInitramfs(busybox, init);
  const digest = createHash("sha256").update(image).digest("hex").slice(0, 16);
  const path = join(cacheDir, `initramfs-${digest}.cpio.gz`);
  const existing = await stat(path).catch(() => undefined);
  if (existing?.size === image.length) return path;
  await mkdir(cacheDir, { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, image);
  await rename(temp, path);
  return path;
}
