/** Following the demo PR's statuses in the emulator and printing each change as it happens. */
import type { Emulator, PostedStatus } from "../emulator/index.js";

export interface WatchResult {
  readonly final: ReadonlyMap<string, PostedStatus>;
  readonly timedOut: boolean;
}

/** GitHub's created_at has whole seconds; the moment hangar local saw the status is more telling. */
function clock(date: Date): string {
  return `${date.toTimeString().slice(0, 8)}.${String(date.getMilliseconds()).padStart(3, "0")}`;
}

export function formatStatus(status: PostedStatus, seen: Date = new Date()): string {
  const link = status.target_url ? `  ${status.target_url}` : "";
  return `  ${clock(seen)}  ${status.context.padEnd(20)} ${status.state.padEnd(8)} ${(status.description ?? "").padEnd(28)}${link}`;
}

/**
 * Print every status posted to `sha` until each of `contexts` has a final one
 * (or the deadline passes, or `signal` aborts).
 */
export async function watchStatuses(
  emulator: Emulator,
  repo: string,
  sha: string,
  contexts: readonly string[],
  print: (line: string) => void,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<WatchResult> {
  const deadline = Date.now() + options.timeoutMs;
  const final = new Map<string, PostedStatus>();
  let shown = 0;
  for (;;) {
    const statuses = await emulator.statuses(repo, sha);
    for (const status of statuses.slice(shown)) {
      print(formatStatus(status));
      if (status.state !== "pending") final.set(status.context, status);
    }
    shown = statuses.length;
    if (contexts.every((context) => final.has(context))) return { final, timedOut: false };
    if (Date.now() > deadline || options.signal?.aborted) return { final, timedOut: true };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
