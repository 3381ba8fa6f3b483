/** The host tools the process sandbox starts a job with, and what to install when one is missing. */
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { LAUNCH_ENV } from "./launch.js";

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** name as the launcher's PATH finds it (or as given, when it is a path). */
export async function findExecutable(name: string): Promise<string | undefined> {
  if (name.includes("/")) return (await isExecutable(name)) ? name : undefined;
  for (const dir of LAUNCH_ENV.PATH.split(":")) {
    const path = join(dir, name);
    if (await isExecutable(path)) return path;
  }
  return undefined;
}

/** Why jobs cannot be sandboxed here, or undefined when every tool is there. */
export async function missingTools(bwrap: string): Promise<string | undefined> {
  if ((await findExecutable(bwrap)) === undefined) {
    return `the job sandbox needs bubblewrap, but ${bwrap} is not installed: install the bubblewrap package, or set worker.sandbox.mode: none to run jobs unsandboxed (not for untrusted code)`;
  }
  for (const tool of ["setpriv", "prlimit", "unshare", "mount"]) {
    if ((await findExecutable(tool)) === undefined) {
      return `the job sandbox needs ${tool}, which is not installed: install the util-linux package, or set worker.sandbox.mode: none to run jobs unsandboxed (not for untrusted code)`;
    }
  }
  return undefined;
}
