/** From how a job ended to the status GitHub shows: failure is the test's, error is the CI's. */
import { MAX_DESCRIPTION, type StatusState } from "../forge/types.js";
import type { ExecOutcome } from "./executor.js";

export interface FinalStatus {
  readonly state: Exclude<StatusState, "pending">;
  readonly description: string;
}

export const INTERNAL_ERROR = "Internal error";
export const CANCELLED = "Cancelled";

/** GitHub refuses longer descriptions; keep the worker tag at the end readable. */
export function fitDescription(text: string, worker?: string): string {
  const tag = worker ? ` [${worker}]` : "";
  const room = MAX_DESCRIPTION - tag.length;
  const body = text.length > room ? `${text.slice(0, Math.max(0, room - 1))}…` : text;
  return `${body}${tag}`.slice(0, MAX_DESCRIPTION);
}

export function statusFor(outcome: ExecOutcome, worker: string, timeoutMinutes: number): FinalStatus {
  switch (outcome.kind) {
    case "exited":
      if (outcome.code === 0 && outcome.limit === undefined)
        return { state: "success", description: fitDescription("Success", worker) };
      return {
        state: "failure",
        description: fitDescription(`Failed (${outcome.limit ?? `exit code ${outcome.code}`})`, worker),
      };
    case "signalled":
      // A sandbox limit is the reason worth reading, not the signal that enforced it.
      return {
        state: "failure",
        description: fitDescription(`Failed (${outcome.limit ?? `killed by ${outcome.signal}`})`, worker),
      };
    case "timeout":
      return {
        state: "failure",
        description: fitDescription(`Timed out after ${timeoutMinutes} min`, worker),
      };
    case "cancelled":
      return { state: "error", description: CANCELLED };
    case "not-started":
      return { state: "error", description: INTERNAL_ERROR };
  }
}

export function inProgress(worker: string): string {
  return fitDescription("In progress", worker);
}

/** A job stopped because its PR moved on: `Superseded by abc1234`. */
export function supersededBy(sha: string): string {
  return fitDescription(`Superseded by ${sha.slice(0, 7)}`);
}

/** Pending while the next attempt waits in the queue. */
export function retrying(reason: string, attempt: number, maxAttempts: number): string {
  return fitDescription(`Retrying after ${reason} (attempt ${attempt} of ${maxAttempts})`);
}

/** The final error once no attempt is left. */
export function exhausted(reason: string, attempts: number, worker?: string): string {
  return fitDescription(`Internal error: ${reason} (${attempts} attempts)`, worker);
}
