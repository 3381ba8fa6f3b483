/** Small text formats shared by the pages. */
import type { JobRecord } from "../jobs/types.js";

export function durationText(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "";
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** Run time of a job: to its end, or to now while it runs; empty before it started. */
export function jobDuration(job: JobRecord, now = Date.now()): string {
  if (job.startedAt === null) return "";
  const end = job.endedAt === null ? now : Date.parse(job.endedAt);
  return durationText(end - Date.parse(job.startedAt));
}

/** `12s ago`, for heartbeats. */
export function ago(iso: string | null, now = Date.now()): string {
  if (iso === null) return "never";
  const ms = now - Date.parse(iso);
  return ms < 1000 ? "just now" : `${durationText(ms)} ago`;
}

/** `2024-05-01 12:34:56` in UTC: same on every reader's screen. */
export function timeText(iso: string | null): string {
  if (iso === null) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().slice(0, 19).replace("T", " ");
}

export const shortSha = (sha: string) => sha.slice(0, 8);

/** What a job's row says it is: its result once done, else its state. */
export function outcome(job: JobRecord): string {
  return job.result ?? job.state;
}

export function percent(part: number, whole: number): string {
  return whole === 0 ? "0%" : `${((100 * part) / whole).toFixed(1)}%`;
}
