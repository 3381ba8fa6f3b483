/**
 * Job metrics from the job events the recorder applies: one call where
 * events are consumed counts every worker's jobs once, whichever host ran them.
 */
import type { JobEvent } from "../queue/messages.js";
import { recordJobFinished, recordJobStarted, recordWorkerHeartbeat } from "./registry.js";

/** Start times of runs seen starting, for durations; bounded, oldest dropped first. */
const started = new Map<string, number>();
const MAX_TRACKED = 10_000;

export function recordJobEvent(event: JobEvent): void {
  if (event.type === "started") {
    const key = `${event.job.slug} ${event.job.run}`;
    if (started.has(key)) return; // a redelivered event
    if (started.size >= MAX_TRACKED) started.delete(started.keys().next().value as string);
    started.set(key, Date.parse(event.at));
    recordJobStarted(event.job.context, event.job.queue);
  } else if (event.type === "finished" && event.state === "done") {
    const key = `${event.job.slug} ${event.job.run}`;
    const start = started.get(key);
    started.delete(key);
    recordJobFinished(
      event.job.context,
      event.result,
      start === undefined ? Number.NaN : (Date.parse(event.at) - start) / 1000,
    );
  } else if (event.type === "worker") {
    recordWorkerHeartbeat(event.worker.name);
  }
}
