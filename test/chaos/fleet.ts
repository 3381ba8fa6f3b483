/**
 * A deployment under fault: one repository whose job records every start and
 * every completed run, PRs opened in bulk, and the count of what came of them.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigInput } from "../../src/config/index.js";
import type { PostedStatus } from "../../src/emulator/index.js";
import { type Deployment, sh, startDeployment, waitFor } from "../e2e/harness.js";

export const REPO = "chaos/app";
export const CONTEXT = "chaos/unit";
export const AUTHOR = "chaos-maintainer";

export interface ScenarioResult {
  readonly scenario: string;
  /** Webhook deliveries sent. */
  readonly sent: number;
  /** Deliveries the webhook answered with 2xx. */
  readonly accepted: number;
  /** PRs whose context ended in the expected result. */
  readonly processed: number;
  /** PRs that never got a final status. */
  readonly lost: number;
  /** Runs to completion beyond the first, over all PRs. */
  readonly duplicated: number;
  /** PRs whose final status was not the expected one. */
  readonly wrong: number;
  /** Answers with a 5xx status. */
  readonly serverErrors: number;
  readonly seconds: number;
  readonly note?: string;
}

export interface Fleet {
  readonly deployment: Deployment;
  readonly runsDir: string;
  stop(): Promise<void>;
}

export interface FleetOptions {
  readonly jobSeconds: number;
  readonly concurrency?: number;
  readonly queue?: ConfigInput["queue"];
  readonly store?: ConfigInput["store"];
}

const RUN_SCRIPT = `echo "$TEST_REVISION" >> "$RUNS_DIR/started"
echo "running $TEST_REVISION"
sleep "$JOB_SECONDS"
echo "$TEST_REVISION" >> "$RUNS_DIR/done"
echo "done"`;

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const runsDir = mkdtempSync(join(tmpdir(), "hangar-chaos-runs-"));
  // Jobs run sandboxed as another uid: the runs directory is shared with them (trusted jobs only).
  chmodSync(runsDir, 0o1777);
  const deployment = await startDeployment({
    projects: {
      [REPO]: {
        branches: {
          main: [{ name: CONTEXT, env: { RUNS_DIR: runsDir, JOB_SECONDS: String(options.jobSeconds) } }],
        },
      },
    },
    trust: { users: [AUTHOR] },
    worker: { concurrency: options.concurrency ?? 2, sandbox: { trustedPaths: [runsDir] } },
    ...(options.queue ? { queue: options.queue } : {}),
    ...(options.store ? { store: options.store } : {}),
  });
  await deployment.emulator.createRepo({ repo: REPO, files: { ".hangar/run": sh(RUN_SCRIPT) } });
  return {
    deployment,
    runsDir,
    async stop() {
      await deployment.stop();
      rmSync(runsDir, { recursive: true, force: true });
    },
  };
}

export interface OpenedPull {
  readonly sha: string;
  readonly status: number | null;
}

export async function openPulls(fleet: Fleet, count: number, spacingMs = 0): Promise<OpenedPull[]> {
  const pulls: OpenedPull[] = [];
  for (let i = 0; i < count; i++) {
    const pull = await fleet.deployment.emulator.openPull({
      repo: REPO,
      author: AUTHOR,
      title: `chaos change ${i}`,
      files: { [`change-${i}.txt`]: `${i}\n` },
    });
    pulls.push({ sha: pull.sha, status: pull.delivery?.status ?? null });
    if (spacingMs > 0) await new Promise((resolve) => setTimeout(resolve, spacingMs));
  }
  return pulls;
}

function countLines(path: string): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(path)) return counts;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line) counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return counts;
}

export function runsStarted(fleet: Fleet): number {
  return [...countLines(join(fleet.runsDir, "started")).values()].reduce((a, b) => a + b, 0);
}

async function finalStatus(fleet: Fleet, sha: string): Promise<PostedStatus | undefined> {
  const statuses = await fleet.deployment.emulator.statuses(REPO, sha);
  return statuses.filter((s) => s.context === CONTEXT && s.state !== "pending").at(-1);
}

/** Wait (up to a deadline) until every PR has a final status, then count. */
export async function settle(
  fleet: Fleet,
  scenario: string,
  pulls: readonly OpenedPull[],
  started: number,
  extra: { sent?: number; accepted?: number; serverErrors?: number; deadlineMs?: number; note?: string } = {},
): Promise<ScenarioResult> {
  await waitFor(
    "every PR to get a final status",
    async () => {
      for (const pull of pulls) if ((await finalStatus(fleet, pull.sha)) === undefined) return undefined;
      return true;
    },
    extra.deadlineMs ?? 120_000,
  ).catch(() => undefined);
  const done = countLines(join(fleet.runsDir, "done"));
  let processed = 0;
  let lost = 0;
  let wrong = 0;
  for (const pull of pulls) {
    const final = await finalStatus(fleet, pull.sha);
    if (final === undefined) lost++;
    else if (final.state === "success" && (done.get(pull.sha) ?? 0) > 0) processed++;
    else wrong++;
  }
  const duplicated = [...done.values()].reduce((sum, runs) => sum + Math.max(0, runs - 1), 0);
  return {
    scenario,
    sent: extra.sent ?? pulls.length,
    accepted:
      extra.accepted ?? pulls.filter((p) => p.status !== null && p.status >= 200 && p.status < 300).length,
    processed,
    lost,
    duplicated,
    wrong,
    serverErrors: extra.serverErrors ?? pulls.filter((p) => p.status !== null && p.status >= 500).length,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    ...(extra.note ? { note: extra.note } : {}),
  };
}

export function formatTable(results: readonly ScenarioResult[]): string {
  const header = ["scenario", "sent", "accepted", "processed", "lost", "duplicated", "wrong", "5xx", "s"];
  const rows = results.map((r) => [
    r.scenario,
    String(r.sent),
    String(r.accepted),
    String(r.processed),
    String(r.lost),
    String(r.duplicated),
    String(r.wrong),
    String(r.serverErrors),
    String(r.seconds),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ");
  const notes = results.filter((r) => r.note).map((r) => `  ${r.scenario}: ${r.note}`);
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line), ...notes].join("\n");
}
