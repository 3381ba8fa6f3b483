/**
 * Probe results shared by the workers of one host for a few minutes: a kvm
 * probe costs seconds of a busy CPU, and every worker (re)start would pay it.
 * Keyed by the boot (a reboot may fix or break KVM) and the probe's settings.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProbeResult } from "./types.js";

export const REMEMBER_MS = 10 * 60 * 1000;

function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "unknown-boot";
  }
}

interface Remembered {
  readonly at: number;
  readonly result: ProbeResult;
}

function isRemembered(value: unknown): value is Remembered {
  const candidate = value as Partial<Remembered> | null;
  return (
    typeof candidate?.at === "number" &&
    typeof candidate.result?.capability === "string" &&
    typeof candidate.result.available === "boolean" &&
    typeof candidate.result.reason === "string"
  );
}

export async function rememberedProbe(
  settings: Readonly<Record<string, unknown>>,
  probe: () => Promise<ProbeResult>,
  dir: string = join(tmpdir(), "hangar-probes"),
  now: () => number = Date.now,
): Promise<{ result: ProbeResult; cached: boolean }> {
  const key = createHash("sha256")
    .update(JSON.stringify({ boot: bootId(), ...settings }))
    .digest("hex")
    .slice(0, 24);
  const file = join(dir, `${key}.json`);
  try {
    const value: unknown = JSON.parse(await readFile(file, "utf8"));
    if (isRemembered(value) && now() - value.at >= 0 && now() - value.at < REMEMBER_MS) {
      return { result: value.result, cached: true };
    }
  } catch {
    // Nothing remembered (or unreadable): probe.
  }
  const result = await probe();
  try {
    await mkdir(dir, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify({ at: now(), result }));
    await rename(temp, file);
  } catch {
    // Remembering is an optimisation only.
  }
  return { result, cached: false };
}
