/**
 * hangar's state files hold webhook payloads, queued jobs and statuses: only
 * their owner may read them, whatever the umask. A SQLite database is created
 * here empty with mode 0600 before SQLite opens it, and SQLite gives its -wal
 * and -shm files the database's own mode. Directories are made 0700.
 * Files and directories that exist already keep the mode they have.
 */
import { closeSync, constants, fchmodSync, mkdirSync, openSync } from "node:fs";
import { dirname, resolve } from "node:path";

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** Creates `path` empty with mode 0600 unless it exists. */
export function createPrivateFile(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return;
    throw error;
  }
  try {
    // The umask may have taken bits from the mode open() used; set it exactly.
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
}

/** mkdir -p, each directory it creates 0700 whatever the umask. */
export function createPrivateDir(path: string): void {
  const target = resolve(path);
  const first = mkdirSync(target, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) return;
  // mkdir's mode went through the umask too: fix every directory this call made.
  for (let dir = target; ; dir = dirname(dir)) {
    chmodDir(dir);
    if (dir === resolve(first) || dir === dirname(dir)) return;
  }
}

function chmodDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fchmodSync(fd, PRIVATE_DIR_MODE);
  } finally {
    closeSync(fd);
  }
}
