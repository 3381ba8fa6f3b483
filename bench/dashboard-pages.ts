/**
 * Dashboard page render times with 10,000 jobs in the history: the
 * recorder's real SQLite job database (filled through its event API), the
 * queue with waiting entries, a running job's log in the fs store. Each page
 * is fetched over HTTP, one request at a time; every page must answer in
 * under 200 ms (the note says OVER when its slowest request did not).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningDashboard, startDashboard } from "../src/dashboard/index.js";
import { JobDatabase } from "../src/jobs/database.js";
import type { JobResult } from "../src/jobs/types.js";
import { openQueue } from "../src/queue/index.js";
import { queueKinds } from "../src/queue/layout.js";
import { openStore } from "../src/store/index.js";
import { LogStreamer } from "../src/store/log.js";
import { silentLogger } from "../src/util/logger.js";
import { recordJob, recordWorker } from "../test/dashboard/fixtures.js";
import { percentile } from "./stats.js";
import type { BenchOptions, BenchRow, BenchSection } from "./types.js";

export const JOBS = 10_000;
const LIMIT_MS = 200;
const REPOS = ["acme/widget", "acme/gadget", "acme/gizmo", "acme/doohickey"];
const CONTEXTS = [
  "debian/unit",
  "fedora/integration",
  "arch/browser",
  "rhel/kvm",
  "centos/images",
  "ubuntu/docs",
];

function fill(db: JobDatabase): void {
  const start = Date.parse("2024-01-01T00:00:00.000Z");
  for (let i = 0; i < JOBS; i++) {
    // Some contexts fail more than others, so the flaky page has an order to compute.
    const context = CONTEXTS[i % CONTEXTS.length] as string;
    const failing = (i * 7919) % 100 < (i % CONTEXTS.length) * 4;
    const result: JobResult = failing ? "failure" : i % 97 === 0 ? "error" : "success";
    recordJob(db, {
      id: `pull-${i}-job`,
      repo: REPOS[i % REPOS.length] as string,
      pull: 1 + (i % 400),
      context,
      queuedAt: new Date(start + i * 60_000).toISOString(),
      until: i >= JOBS - 4 ? "running" : "done",
      result,
      runSeconds: 30 + (i % 600),
    });
  }
  for (let w = 0; w < 20; w++) {
    recordWorker(db, { name: `worker-${w}`, running: w < 4 ? [`pull-${JOBS - 1 - w}-job`] : [] });
  }
}

async function measure(
  url: string,
  options: BenchOptions,
): Promise<{ samples: Float64Array; failed: number }> {
  const take = async () => {
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    return { ms: performance.now() - started, ok: response.ok };
  };
  const warmUntil = Date.now() + options.warmupMs;
  while (Date.now() < warmUntil) await take();
  const samples: number[] = [];
  let failed = 0;
  const until = Date.now() + options.durationMs;
  while (Date.now() < until || samples.length < 5) {
    const { ms, ok } = await take();
    samples.push(ms);
    if (!ok) failed++;
  }
  return { samples: Float64Array.from(samples).sort(), failed };
}

export const dashboardPages: BenchSection = {
  name: "dashboard-pages",
  async run(backend, options): Promise<BenchRow[]> {
    // The pages read the queue only for its counts and first entries: one backend says enough.
    if (backend.name !== "sqlite") return [];
    const dir = mkdtempSync(join(tmpdir(), "hangar-bench-dashboard-"));
    const layout = { webhook: "webhook", tasks: ["public", "internal"], statistics: "statistics" };
    const history = new JobDatabase(join(dir, "jobs.sqlite"));
    const queue = await openQueue({ driver: "sqlite", path: join(dir, "queue.sqlite"), layout });
    const store = await openStore({
      driver: "fs",
      dir: join(dir, "store"),
      publicUrl: "http://127.0.0.1:1/",
    });
    let dashboard: RunningDashboard | undefined;
    const rows: BenchRow[] = [];
    try {
      fill(history);
      for (let i = 0; i < 200; i++) {
        const job = { repo: "acme/widget", sha: "0".repeat(40), context: CONTEXTS[i % 6], pull: i + 1 };
        await queue.publish("public", JSON.stringify({ job }));
      }
      const slug = `pull-${JOBS - 1}-job`;
      const log = new LogStreamer(store, slug, {
        title: "bench",
        context: "debian/unit",
        repo: "acme/widget",
        sha: "0".repeat(40),
        pull: 1,
        worker: "worker-0",
      });
      for (let i = 0; i < 20_000; i++) log.write(`line ${i} of a long-running job's output\n`);
      await log.flush();
      dashboard = await startDashboard({
        listen: "127.0.0.1:0",
        sources: { queue, queues: queueKinds(layout), history, store },
        logger: silentLogger(),
      });
      const pages = [
        "/",
        "/queues",
        "/workers",
        "/jobs",
        "/jobs?repo=acme%2Fgadget&context=rhel%2Fkvm&result=failure",
        "/jobs?page=150",
        "/flaky",
        `/jobs/${slug}`,
        "/metrics",
      ];
      for (const page of pages) {
        const { samples, failed } = await measure(new URL(page, dashboard.url).href, options);
        const total = samples.reduce((sum, ms) => sum + ms, 0);
        const max = samples[samples.length - 1] ?? Number.NaN;
        rows.push({
          backend: backend.name,
          section: `dashboard ${page}`,
          concurrency: 1,
          requests: samples.length,
          perSecond: (samples.length * 1000) / total,
          p50Ms: percentile(samples, 50),
          p99Ms: percentile(samples, 99),
          note: `${JOBS} jobs; max ${max.toFixed(1)} ms${max >= LIMIT_MS ? ` OVER ${LIMIT_MS} ms` : ""}${failed > 0 ? `; ${failed} failed` : ""}`,
        });
      }
      await log.finish("success", "done");
    } finally {
      await dashboard?.close();
      await queue.close();
      await store.close();
      history.close();
      rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
};
