/**
 * The interaction tests of `hangar local --selftest`, run against the
 * deployment `hangar local` brought up: its queue backend, its store, and the
 * whole flow from a signed webhook delivery to the statuses on a pull request.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { sign } from "@octokit/webhooks-methods";
import type { LoadedConfig } from "../../config/index.js";
import { openConfiguredQueue } from "../../queue/from-config.js";
import type { Delivery } from "../../queue/types.js";
import type { Store } from "../../store/types.js";
import type { Logger } from "../../util/logger.js";
import { waitUntil } from "../wait.js";
import type { GitHubRest, Json, StatusEntry } from "./github.js";

export const SELFTEST_CONTEXT = "hangar/selftest";

/** What a check needs of the running deployment. */
export interface SelftestDeployment {
  readonly loaded: LoadedConfig;
  readonly logger: Logger;
  readonly store: Store;
  readonly webhookUrl: string;
  readonly webhookSecret: string;
  readonly workerName: string;
  readonly github: GitHubRest;
  /** The pull request the webhook check delivers an event for. */
  readonly repo: string;
  readonly pull: Json;
  readonly timeoutMs: number;
  readonly print: (line: string) => void;
}

export interface Check {
  readonly name: string;
  run(deployment: SelftestDeployment): Promise<string>;
}

function fail(message: string): never {
  throw new Error(message);
}

/** Publish two entries on queues of its own, take them back in priority order, ack them. */
const queueRoundTrip: Check = {
  name: "queue round trip",
  async run(deployment) {
    const prefix = `selftest-${randomBytes(4).toString("hex")}`;
    const { config } = deployment.loaded;
    const loaded: LoadedConfig = {
      ...deployment.loaded,
      config: {
        ...config,
        queue: {
          ...config.queue,
          // Every queue of its own, whatever names the config has.
          names: Object.fromEntries(
            Object.keys(config.queue.names).map((kind) => [kind, `${prefix}-${kind}`]),
          ) as typeof config.queue.names,
        },
        projects: {},
      },
    };
    const queue = await openConfiguredQueue(loaded, {}, deployment.logger);
    const name = `${prefix}-public`;
    try {
      await queue.publish(name, JSON.stringify({ n: 1 }), { priority: 2 });
      await queue.publish(name, JSON.stringify({ n: 2 }), { priority: 8 });
      const received: Delivery[] = [];
      const consumer = await queue.consume(name, async (delivery) => {
        received.push(delivery);
        await delivery.ack();
      });
      try {
        await waitUntil(() => received.length >= 2, "both entries to come back", deployment.timeoutMs);
      } finally {
        await consumer.cancel();
      }
      const order = received.map((d) => (JSON.parse(d.body.toString()) as { n: number }).n).join(",");
      if (order !== "2,1") fail(`expected the priority 8 entry first, got entries in order ${order}`);
      const left = await queue.inspect(name, 0);
      if (left.ready !== 0) fail(`${left.ready} entries left after acking both`);
      return `${queue.driver}: 2 entries published, delivered by priority, acked`;
    } finally {
      await queue.purge(name).catch(() => 0);
      await queue.close();
    }
  },
};

/** Put an object, read it back through the store and through its public URL, delete it. */
const storeRoundTrip: Check = {
  name: "store upload/download",
  async run({ store }) {
    const key = `selftest-${randomBytes(4).toString("hex")}/probe.txt`;
    const content = `hangar selftest ${randomUUID()}\n`;
    await store.put(key, content, { contentType: "text/plain; charset=utf-8" });
    try {
      const back = await store.get(key);
      if (back?.toString() !== content) fail("the object read back differs from what was written");
      const url = store.url(key);
      const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
      const served = await response.text();
      if (!response.ok || served !== content)
        fail(`GET ${url} answered ${response.status} without the object`);
      return `${store.driver}: ${Buffer.byteLength(content)} bytes written, read back and served at its URL`;
    } finally {
      await store.delete(key);
    }
  },
};

function describe(statuses: readonly StatusEntry[]): string {
  return statuses.map((s) => `${s.state} "${s.description ?? ""}"`).join(", ") || "none";
}

/** A context that already has a result would be skipped by scan; a pending status makes it testable again. */
async function makeTestable(deployment: SelftestDeployment, sha: string): Promise<number> {
  const { github, repo } = deployment;
  const mine = async () => (await github.statuses(repo, sha)).filter((s) => s.context === SELFTEST_CONTEXT);
  const before = await mine();
  const last = before.at(-1);
  if (last === undefined || last.state === "pending") return before.length;
  deployment.print(
    `  ${SELFTEST_CONTEXT} already ended in ${last.state} on this commit; setting it back to pending`,
  );
  await github.postStatus(repo, sha, {
    context: SELFTEST_CONTEXT,
    state: "pending",
    description: "Not yet tested",
  });
  return before.length + 1;
}

/** A signed pull_request delivery to the webhook, then the three statuses of a clean run on the PR. */
const webhookToStatuses: Check = {
  name: "signed webhook delivery → statuses",
  async run(deployment) {
    const { github, repo, pull } = deployment;
    const head = pull.head as Json;
    const sha = String(head.sha);
    const seen = await makeTestable(deployment, sha);
    const payload = {
      action: "synchronize",
      number: pull.number,
      pull_request: pull,
      repository: (pull.base as Json).repo,
      sender: pull.user,
    };
    const body = JSON.stringify(payload);
    const response = await fetch(deployment.webhookUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/hangar-selftest",
        "x-github-event": "pull_request",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": await sign(deployment.webhookSecret, body),
      },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    if (response.status !== 202) fail(`the webhook answered ${response.status}, expected 202`);

    let statuses: StatusEntry[] = [];
    await waitUntil(
      async () => {
        statuses = (await github.statuses(repo, sha))
          .filter((s) => s.context === SELFTEST_CONTEXT)
          .slice(seen);
        return statuses.some((s) => s.state !== "pending");
      },
      `a result of ${SELFTEST_CONTEXT} on ${repo}#${String(pull.number)}`,
      deployment.timeoutMs,
      250,
    ).catch(() => fail(`no result within ${deployment.timeoutMs / 1000} s; statuses: ${describe(statuses)}`));

    const worker = deployment.workerName;
    const [queued, running, result] = statuses;
    if (
      statuses.length !== 3 ||
      queued?.state !== "pending" ||
      queued.description !== "Not yet tested" ||
      running?.state !== "pending" ||
      running.description !== `In progress [${worker}]` ||
      !running.target_url ||
      result?.state !== "success" ||
      result.description !== `Success [${worker}]` ||
      !result.target_url
    ) {
      fail(`expected Not yet tested, In progress, Success; got ${describe(statuses)}`);
    }
    const log = await fetch(new URL("log", result.target_url), { signal: AbortSignal.timeout(30_000) });
    const text = await log.text();
    if (!log.ok || !text.includes(`hangar selftest: ${sha}`))
      fail(`the job's log at ${result.target_url} lacks its output`);
    return `${repo}#${String(pull.number)} at ${sha.slice(0, 8)}: 3 statuses, log at ${result.target_url}`;
  },
};

export const CHECKS: readonly Check[] = [queueRoundTrip, storeRoundTrip, webhookToStatuses];

/** The test map entry of the self-test: a job that proves it ran on the PR's commit. */
export function selftestContext(timeoutMinutes = 10) {
  return {
    name: SELFTEST_CONTEXT,
    timeout: timeoutMinutes,
    command: [
      "sh",
      "-c",
      'echo "hangar selftest: $(git rev-parse HEAD)"; test "$(git rev-parse HEAD)" = "$TEST_REVISION"',
    ],
  };
}

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly ms: number;
}

export async function runChecks(
  deployment: SelftestDeployment,
  checks: readonly Check[] = CHECKS,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    const started = Date.now();
    let result: CheckResult;
    try {
      result = { name: check.name, ok: true, detail: await check.run(deployment), ms: Date.now() - started };
    } catch (error) {
      result = { name: check.name, ok: false, detail: (error as Error).message, ms: Date.now() - started };
    }
    deployment.print(`  ${result.ok ? "PASS" : "FAIL"}  ${result.name} (${result.ms} ms): ${result.detail}`);
    results.push(result);
  }
  const passed = results.filter((r) => r.ok).length;
  deployment.print(
    `selftest summary: ${passed} of ${results.length} checks passed${passed === results.length ? "" : ", see above"}`,
  );
  return results;
}
