/** Host-side looks after an attack: what the job may have left running. */
import { processesWith } from "../fixtures/host-process.js";

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
