/** Host-side looks after an attack: what the job may have left running. */
import { readdir, readFile } from "node:fs/promises";

async function processesWith(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.split("\0").includes(text)) found.push(Number(entry));
  }
  return found;
}

/** A process whose argument is `argument` still running 5 s after the job ended: a leak. */
export async function survivor(argument: string): Promise<string | undefined> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const pids = await processesWith(argument);
    if (pids.length === 0) return undefined;
    if (Date.now() > deadline) {
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Gone meanwhile.
        }
      }
      return `process ${pids.join(", ")} (sleep ${argument}) outlived the job`;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
