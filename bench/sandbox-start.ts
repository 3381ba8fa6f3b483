/**
 * The job sandbox's own start cost: `true` run through the process executor,
 * one job at a time, with the sandbox as configured by default (bubblewrap,
 * its cgroups, the job directory handed over) and without it. Each run is
 * timed from executor.run() to its outcome. No queue is involved: the rows
 * are measured once, on the sqlite pass.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../src/config/index.js";
import type { ExecSpec, Executor } from "../src/runner/executor.js";
import { ProcessExecutor } from "../src/runner/process-executor.js";
import { sandboxSettings } from "../src/runner/sandbox/index.js";
import { percentile } from "./stats.js";
import type { BenchOptions, BenchRow, BenchSection } from "./types.js";

function jobSpec(workDir: string): ExecSpec {
  const jobDir = mkdtempSync(join(workDir, "job-"));
  for (const sub of ["checkout", "attachments", "home"]) mkdirSync(join(jobDir, sub));
  return {
    argv: ["true"],
    checkout: join(jobDir, "checkout"),
    attachments: join(jobDir, "attachments"),
    jobDir,
    network: false,
    env: { PATH: "/usr/bin:/bin", HOME: join(jobDir, "home") },
    timeoutMs: 60_000,
    signal: new AbortController().signal,
    onOutput: () => undefined,
  };
}

/** Runs `true` until the time is up; the latencies of the measured runs. */
async function runTrue(executor: Executor, workDir: string, durationMs: number): Promise<number[]> {
  const latencies: number[] = [];
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    const spec = jobSpec(workDir);
    const started = performance.now();
    const outcome = await executor.run(spec);
    latencies.push(performance.now() - started);
    rmSync(spec.jobDir, { recursive: true, force: true });
    if (outcome.kind !== "exited" || outcome.code !== 0) {
      throw new Error(`sandbox bench: \`true\` ended ${JSON.stringify(outcome)}`);
    }
  }
  return latencies;
}

async function row(name: string, executor: Executor, options: BenchOptions): Promise<BenchRow> {
  const workDir = mkdtempSync(join(tmpdir(), "hangar-bench-sandbox-"));
  // Like the default workDir (made 0755): the sandbox user reaches it, nothing has to be staged.
  chmodSync(workDir, 0o711);
  try {
    await runTrue(executor, workDir, options.warmupMs);
    const latencies = await runTrue(executor, workDir, options.durationMs);
    const sorted = Float64Array.from(latencies).sort();
    return {
      backend: "-",
      section: "sandbox start cost",
      concurrency: 1,
      requests: latencies.length,
      perSecond: latencies.length / (options.durationMs / 1000),
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      note: `\`true\` through the process executor, ${name}`,
    };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

export const sandboxStart: BenchSection = {
  name: "sandbox-start",
  async run(backend, options) {
    if (backend.name !== "sqlite") return [];
    const settings = sandboxSettings(parseConfig({}, "bench", tmpdir()));
    if (settings === undefined) throw new Error("sandbox bench: the default config has no sandbox");
    return [
      await row("unsandboxed (worker.sandbox.mode: none)", new ProcessExecutor(), options),
      await row("sandboxed (bwrap, defaults)", new ProcessExecutor({ sandbox: settings }), options),
    ];
  },
};
