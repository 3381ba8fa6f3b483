/**
 * The recording functions and the scrape-time gauges, read back through a
 * real Prometheus text-format parser: counts match what the test did.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { createForge } from "../../src/forge/index.js";
import { JobDatabase } from "../../src/jobs/database.js";
import {
  addMetricsSource,
  instrumentForge,
  metricsText,
  recordJobFinished,
  recordJobStarted,
  recordWebhookDelivery,
  recordWorkerHeartbeat,
} from "../../src/metrics/index.js";
import { openQueue, type QueueBackend } from "../../src/queue/index.js";
import { silentLogger } from "../../src/util/logger.js";
import { recordWorker } from "../dashboard/fixtures.js";
import { type Families, histogramCount, parseMetrics, value } from "./prometheus.js";

const layout = { webhook: "webhook", tasks: ["public"], statistics: "statistics" };
const current = async (): Promise<Families> => parseMetrics((await metricsText()).body);
const currentText = async (): Promise<string> => (await metricsText()).body;

describe("metrics", () => {
  let dir: string;
  let queue: QueueBackend;
  let emulator: Emulator;
  let remove: () => void;
  let history: JobDatabase;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "hangar-metrics-"));
    queue = await openQueue({ driver: "sqlite", path: join(dir, "queue.sqlite"), layout });
    emulator = await startEmulator({ dir: join(dir, "git") });
    await emulator.createRepo({ repo: "acme/widget", files: { "README.md": "hi\n" } });
    history = new JobDatabase(join(dir, "jobs.sqlite"));
    recordWorker(history, {
      name: "w9",
      running: ["a", "b"],
      receivedMs: Date.parse("2024-05-01T10:00:00.000Z"),
    });
    remove = addMetricsSource({ queue, queues: ["webhook", "public"], history });
  });
  after(async () => {
    remove?.();
    await queue?.close();
    history?.close();
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("queue depths and worker heartbeats are read at scrape time", async () => {
    await queue.publish("public", "{}");
    await queue.publish("public", "{}");
    const families = await current();
    assert.equal(value(families, "hangar_queue_depth", { queue: "public", state: "ready" }), 2);
    assert.equal(value(families, "hangar_queue_depth", { queue: "webhook", state: "ready" }), 0);
    assert.equal(
      value(families, "hangar_worker_last_heartbeat_timestamp_seconds", { worker: "w9" }),
      1714557600,
    );
    assert.equal(value(families, "hangar_worker_running_jobs", { worker: "w9" }), 2);
  });

  test("recorded jobs, deliveries and heartbeats are counted", async () => {
    const beforeText = await currentText();
    const before = parseMetrics(beforeText);
    recordJobStarted("metrics/ctx", "public");
    recordJobStarted("metrics/ctx", "public");
    recordJobFinished("metrics/ctx", "success", 42);
    recordJobFinished("metrics/ctx", "failure", 3);
    recordWebhookDelivery("pull_request", "queued", 0.004);
    recordWebhookDelivery(undefined, "unauthorized", 0.001);
    recordWorkerHeartbeat("w9");
    const afterText = await currentText();
    const after = parseMetrics(afterText);
    const delta = (name: string, labels: Record<string, string>) =>
      value(after, name, labels) - value(before, name, labels);
    assert.equal(delta("hangar_jobs_started_total", { context: "metrics/ctx" }), 2);
    assert.equal(delta("hangar_jobs_finished_total", { context: "metrics/ctx", result: "success" }), 1);
    assert.equal(delta("hangar_jobs_finished_total", { context: "metrics/ctx", result: "failure" }), 1);
    assert.equal(
      histogramCount(afterText, "hangar_job_duration_seconds", { context: "metrics/ctx" }) -
        histogramCount(beforeText, "hangar_job_duration_seconds", { context: "metrics/ctx" }),
      2,
    );
    assert.equal(delta("hangar_webhook_deliveries_total", { event: "pull_request", outcome: "queued" }), 1);
    assert.equal(delta("hangar_webhook_deliveries_total", { outcome: "unauthorized" }), 1);
    assert.equal(delta("hangar_worker_heartbeats_total", { worker: "w9" }), 1);
    assert.ok(histogramCount(afterText, "hangar_webhook_latency_seconds") >= 2);
  });

  test("every forge call is counted, failures as errors too", async () => {
    const forge = instrumentForge(
      createForge({
        api: emulator.url,
        post: true,
        logger: silentLogger(),
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      }),
    );
    const before = await current();
    await forge.listOpenPulls("acme/widget");
    await assert.rejects(forge.getPull("acme/widget", 999));
    const after = await current();
    const delta = (name: string, labels: Record<string, string>) =>
      value(after, name, labels) - value(before, name, labels);
    assert.equal(delta("hangar_github_api_calls_total", { operation: "listOpenPulls" }), 1);
    assert.equal(delta("hangar_github_api_errors_total", { operation: "listOpenPulls" }), 0);
    assert.equal(delta("hangar_github_api_calls_total", { operation: "getPull" }), 1);
    assert.equal(delta("hangar_github_api_errors_total", { operation: "getPull" }), 1);
  });

  test("names from outside make a bounded number of series; the rest count as other", async () => {
    const series = (text: string, name: string) => text.split("\n").filter((l) => l.startsWith(`${name}{`));
    for (let i = 0; i < 1200; i++) {
      recordJobStarted(`flood/${i}`, `queue-${i}`);
      recordWorkerHeartbeat(`worker-${i}-${"w".repeat(i % 3 === 0 ? 200 : 1)}`);
    }
    const text = await currentText();
    const started = series(text, "hangar_jobs_started_total");
    assert.ok(started.length <= 500 * 50 && started.length > 0);
    assert.ok(
      new Set(started.map((l) => /context="([^"]*)"/.exec(l)?.[1])).size <= 501,
      "at most 500 contexts and other",
    );
    assert.ok(
      started.some((l) => l.includes('context="other"')),
      "the overflow is counted, as other",
    );
    const heartbeats = series(text, "hangar_worker_heartbeats_total");
    assert.ok(heartbeats.length <= 501, `${heartbeats.length} worker series`);
    assert.ok(!heartbeats.some((l) => l.includes("w".repeat(200))), "overlong names are not labels");
    assert.ok(value(parseMetrics(text), "hangar_worker_heartbeats_total", { worker: "other" }) > 0);
  });
});
