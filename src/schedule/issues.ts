/**
 * One issue per failing scheduled context: opened on the first failure, commented on
 * while it keeps failing, closed (with a last comment) when the context passes again.
 */
import type { ForgeExtras } from "../forge/extras.js";
import type { Forge } from "../forge/types.js";

export type IssueForge = Pick<Forge, "createIssue" | "comment"> &
  Pick<ForgeExtras, "findOpenIssue" | "closeIssue">;

export interface ScheduledResult {
  readonly repo: string;
  readonly branch: string;
  readonly context: string;
  readonly sha: string;
  readonly state: "success" | "failure" | "error";
  readonly description: string;
  readonly logUrl: string | null;
}

export type IssueChange = { readonly kind: "opened" | "updated" | "closed"; readonly issue: number } | null;

export function issueTitle(result: Pick<ScheduledResult, "branch" | "context">): string {
  return `Scheduled run of ${result.context} on ${result.branch} fails`;
}

function line(result: ScheduledResult): string {
  const log = result.logUrl ? ` — [log](${result.logUrl})` : "";
  return `${result.state}: ${result.description} at ${result.sha.slice(0, 12)}${log}`;
}

export async function reportScheduledResult(
  forge: IssueForge,
  result: ScheduledResult,
): Promise<IssueChange> {
  const title = issueTitle(result);
  const open = await forge.findOpenIssue(result.repo, title);
  if (result.state === "success") {
    if (open === null) return null;
    await forge.comment(result.repo, open, `Passes again: ${line(result)}`);
    await forge.closeIssue(result.repo, open);
    return { kind: "closed", issue: open };
  }
  if (open !== null) {
    await forge.comment(result.repo, open, `Still failing: ${line(result)}`);
    return { kind: "updated", issue: open };
  }
  const body = [
    `The scheduled run of \`${result.context}\` on branch \`${result.branch}\` of ${result.repo} fails.`,
    "",
    line(result),
    "",
    "hangar comments here on each further failure and closes this issue when the context passes again.",
  ].join("\n");
  return { kind: "opened", issue: await forge.createIssue(result.repo, { title, body }) };
}
