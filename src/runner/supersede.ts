/** Has the PR moved on from the job's revision? Asked at job start and every so often while it runs. */
import type { Forge } from "../forge/types.js";
import type { Job } from "../queue/messages.js";

/** The PR's new head when it is no longer the job's sha; undefined when it still is, or nobody can tell. */
export async function movedHead(forge: Forge, job: Job): Promise<string | undefined> {
  if (!job.pull) return undefined;
  try {
    const pull = await forge.getPull(job.repo, job.pull);
    return pull.headSha !== job.sha ? pull.headSha : undefined;
  } catch {
    return undefined; // GitHub unreachable: keep running, ask again later
  }
}

/** Calls onMoved once when the PR's head moves; the returned function stops watching. */
export function watchHead(
  forge: Forge,
  job: Job,
  intervalMs: number,
  onMoved: (sha: string) => void,
): () => void {
  if (!job.pull) return () => undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const poll = async () => {
    const moved = await movedHead(forge, job);
    if (stopped) return;
    if (moved) return onMoved(moved);
    timer = setTimeout(() => void poll(), intervalMs);
  };
  timer = setTimeout(() => void poll(), intervalMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
