/** Who holds a lease, and whether that holder still lives. */
import { randomBytes } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
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

/** Whether pid names a running process (of this pid namespace); a zombie counts as dead. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) S ...": comm may contain spaces and parentheses, the state follows the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false;
  }
}
