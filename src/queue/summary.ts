/** One line per queue entry (for `hangar queue inspect` and the dashboard): the `human` line, or what the entry is about. */
import type { QueueKind } from "./types.js";

const MAX_LINE = 160;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const field = (value: unknown, ...path: string[]): unknown => {
  let at = value;
  for (const key of path) at = isObject(at) ? at[key] : undefined;
  return at;
};

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : typeof value === "number" ? String(value) : undefined;

function clip(line: string): string {
  const single = line.replace(/\s+/g, " ").trim();
  return single.length > MAX_LINE ? `${single.slice(0, MAX_LINE - 1)}…` : single;
}

/** `pull_request opened acme/widget#3` from a webhook envelope. */
export function summarizeWebhook(entry: Json): string {
  const request = entry.request;
  const repo = text(field(request, "repository", "full_name"));
  const number =
    text(field(request, "pull_request", "number")) ??
    text(field(request, "issue", "number")) ??
    text(field(request, "number"));
  const parts = [
    text(entry.event) ?? "(no event)",
    text(field(request, "action")),
    repo === undefined ? undefined : `${repo}${number === undefined ? "" : `#${number}`}`,
    text(entry.delivery) === undefined ? undefined : `delivery ${text(entry.delivery)}`,
  ];
  return parts.filter((part) => part !== undefined).join(" ");
}

/** The `human` line, else `context repo@sha #pull`; `command: NAME` for maintenance entries. */
export function summarizeTask(entry: Json): string {
  const human = text(entry.human);
  if (human !== undefined) return human;
  const job = entry.job;
  if (isObject(job)) {
    const sha = text(job.sha);
    const pull = text(job.pull);
    const parts = [
      text(job.context) ?? "(no context)",
      `${text(job.repo) ?? "(no repo)"}@${sha === undefined ? "(no sha)" : sha.slice(0, 12)}`,
      pull === undefined ? undefined : `#${pull}`,
    ];
    return parts.filter((part) => part !== undefined).join(" ");
  }
  const command = text(entry.command);
  return command === undefined ? JSON.stringify(entry) : `command: ${command}`;
}

export function summarizeEntry(kind: QueueKind | undefined, body: Buffer): string {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    return clip(`(not JSON, ${body.length} bytes) ${body.toString("utf8")}`);
  }
  if (!isObject(value)) return clip(`(not an object) ${JSON.stringify(value)}`);
  if (kind === "webhook") return clip(summarizeWebhook(value));
  if (kind === "task") return clip(summarizeTask(value));
  return clip(JSON.stringify(value));
}
