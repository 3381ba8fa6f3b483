/** Who holds a lease, and whether that holder still lives. */
import { randomBytes } from "node:crypto";
import { readlinkSync } from "node:fs";
import { hostname } from "node:os";

export interface OwnerIdentity {
  /** Random per backend instance, so a reused pid never passes for its predecessor. */
  readonly token: string;
  readonly pid: number;
  readonly host: string;
  /** Processes in different pid namespaces (containers) can't judge each other's pids. */
  readonly pidNamespace: string;
}

export function newIdentity(): OwnerIdentity {
  return {
    token: randomBytes(12).toString("hex"),
    pid: process.pid,
    host: hostname(),
    pidNamespace: currentPidNamespace(),
  };
}

function currentPidNamespace(): string {
  try {
    return readlinkSync("/proc/self/ns/pid");
  } catch {
    return "";
  }
}

export function sharesPidSpace(a: Omit<OwnerIdentity, "token">, b: Omit<OwnerIdentity, "token">): boolean {
  return a.host === b.host && a.pidNamespace === b.pidNamespace;
}
