/**
 * hangar's Prometheus metrics: one registry per process, and small recording
 * functions the parts call where things happen. Values that live elsewhere
 * (queue depths, worker heartbeats) are read when /metrics is scraped, from
 * the sources registered with addMetricsSource(). Label values are bounded
 * (labels.ts): whatever arrives, the number of series stays fixed.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { JobHistory } from "../jobs/types.js";
import type { QueueBackend } from "../queue/types.js";
import {
  LabelValues,
  UNVERIFIED,
  UNVERIFIED_OUTCOMES,
  type WebhookOutcome,
  webhookEventLabel,
} from "./labels.js";

export type { WebhookOutcome } from "./labels.js";

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: "hangar_" });

/** Where scrape-time gauges read from: a queue and its queue names, and the job history. */
export interface MetricsSource {
  readonly queue?: QueueBackend;
  readonly queues?: readonly string[];
  readonly history?: JobHistory;
}

const sources = new Set<MetricsSource>();

/** Read these sources on every scrape; the returned function stops that. */
export function addMetricsSource(source: MetricsSource): () => void {
  sources.add(source);
  return () => sources.delete(source);
}

const jobsStarted = new Counter({
  name: "hangar_jobs_started_total",
  help: "Jobs a worker started running, by context and queue",
  labelNames: ["context", "queue"] as const,
  registers: [registry],
});

const jobsFinished = new Counter({
  name: "hangar_jobs_finished_total",
  help: "Jobs that ended, by context and result (success, failure, error)",
  labelNames: ["context", "result"] as const,
  registers: [registry],
});

const jobDuration = new Histogram({
  name: "hangar_job_duration_seconds",
  help: "How long jobs ran, from start to result, by context and result",
  labelNames: ["context", "result"] as const,
  buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
  registers: [registry],
});

const webhookDeliveries = new Counter({
  name: "hangar_webhook_deliveries_total",
  help: "Webhook requests, by GitHub event and outcome (queued, ignored, unauthorized, ...)",
  labelNames: ["event", "outcome"] as const,
  registers: [registry],
});

const webhookLatency = new Histogram({
  name: "hangar_webhook_latency_seconds",
  help: "Time from a webhook request's arrival to its answer, by outcome",
  labelNames: ["outcome"] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

const githubCalls = new Counter({
  name: "hangar_github_api_calls_total",
  help: "Calls to the GitHub API, by operation",
  labelNames: ["operation"] as const,
  registers: [registry],
});

const githubErrors = new Counter({
  name: "hangar_github_api_errors_total",
  help: "GitHub API calls that failed for good (after retries), by operation",
  labelNames: ["operation"] as const,
  registers: [registry],
});

const workerHeartbeats = new Counter({
  name: "hangar_worker_heartbeats_total",
  help: "Heartbeats this process recorded, by worker",
  labelNames: ["worker"] as const,
  registers: [registry],
});

async function eachSource(use: (source: MetricsSource) => Promise<void>): Promise<void> {
  // A source that cannot answer (a broker away) leaves its gauges out of this scrape, not the whole page.
  await Promise.all([...sources].map((source) => use(source).catch(() => undefined)));
}

new Gauge({
  name: "hangar_queue_depth",
  help: "Entries in each queue: ready (waiting) and unacked (being worked on)",
  labelNames: ["queue", "state"] as const,
  registers: [registry],
  async collect() {
    this.reset();
    await eachSource(async ({ queue, queues }) => {
      if (!queue || !queues) return;
      for (const name of queues) {
        const info = await queue.inspect(name, 0);
        this.set({ queue: name, state: "ready" }, info.ready);
        // An AMQP client sees only its own unacked deliveries: not a number to graph.
        if (queue.driver !== "amqp") this.set({ queue: name, state: "unacked" }, info.unacked);
      }
    });
  },
});

new Gauge({
  name: "hangar_worker_last_heartbeat_timestamp_seconds",
  help: "When each worker last sent a heartbeat (Unix time)",
  labelNames: ["worker"] as const,
  registers: [registry],
  async collect() {
    this.reset();
    await eachSource(async ({ history }) => {
      for (const worker of (await history?.listWorkers()) ?? []) {
        this.set({ worker: worker.name }, Date.parse(worker.heartbeatAt) / 1000);
      }
    });
  },
});

new Gauge({
  name: "hangar_worker_running_jobs",
  help: "Jobs each worker runs now",
  labelNames: ["worker"] as const,
  registers: [registry],
  async collect() {
    this.reset();
    await eachSource(async ({ history }) => {
      for (const worker of (await history?.listWorkers()) ?? []) {
        this.set({ worker: worker.name }, worker.runningJobs.length);
      }
    });
  },
});

// Names that arrive in queue entries: contexts of test maps, queues, workers. Generous, but bounded.
const contexts = new LabelValues(500);
const queues = new LabelValues(50);
const results = new LabelValues(10, ["success", "failure", "error"]);
const workers = new LabelValues(500);
const operations = new LabelValues(100);

for (const outcome of UNVERIFIED_OUTCOMES) {
  webhookDeliveries.inc({ event: UNVERIFIED, outcome }, 0);
  webhookLatency.zero({ outcome });
}

export function recordJobStarted(context: string, queue: string): void {
  jobsStarted.inc({ context: contexts.of(context), queue: queues.of(queue) });
}

export function recordJobFinished(context: string, result: string, seconds: number): void {
  const labels = { context: contexts.of(context), result: results.of(result) };
  jobsFinished.inc(labels);
  if (Number.isFinite(seconds) && seconds >= 0) jobDuration.observe(labels, seconds);
}

/**
 * `event` is the X-GitHub-Event of a delivery whose signature passed, undefined
 * before: an unverified request's header names no series, and an event hangar
 * does not act on counts as `other`.
 */
export function recordWebhookDelivery(
  event: string | undefined,
  outcome: WebhookOutcome,
  seconds: number,
): void {
  webhookDeliveries.inc({ event: webhookEventLabel(event), outcome });
  webhookLatency.observe({ outcome }, seconds);
}

export function recordGitHubCall(operation: string, failed: boolean): void {
  const labels = { operation: operations.of(operation) };
  githubCalls.inc(labels);
  if (failed) githubErrors.inc(labels);
}

export function recordWorkerHeartbeat(worker: string): void {
  workerHeartbeats.inc({ worker: workers.of(worker) });
}

/** The text exposition format, as served at /metrics. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
