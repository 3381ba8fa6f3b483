/**
 * A closed-loop HTTP load generator: `concurrency` workers, each sending its
 * next request when the previous one is answered, over keep-alive connections.
 */
import { Agent, type OutgoingHttpHeaders, request } from "node:http";
import { percentile } from "./stats.js";

export interface LoadRequest {
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
}

export interface LoadOptions {
  readonly url: string;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** The status that counts as success. */
  readonly okStatus: number;
  readonly makeRequest: (n: number) => LoadRequest;
}

export interface LoadResult {
  /** Requests answered in the measured window. */
  readonly requests: number;
  readonly ok: number;
  /** Successful answers including the warm-up, e.g. to compare with what a queue holds. */
  readonly totalOk: number;
  /** Other statuses and errors, by status code or error code. */
  readonly failures: ReadonlyMap<string, number>;
  readonly okPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Every measured request's time, sorted, for combining runs. */
  readonly latencies: Float64Array;
  /** The measured window, from its start to the last answer. */
  readonly elapsedMs: number;
}

function send(agent: Agent, url: URL, req: LoadRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = request(
      url,
      { method: "POST", agent, headers: { ...req.headers, "content-length": req.body.length } },
      (res) => {
        res.on("error", reject);
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.resume();
      },
    );
    r.on("error", reject);
    r.end(req.body);
  });
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const stopAt = measureFrom + options.durationMs;
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  let sent = 0;
  let ok = 0;
  let totalOk = 0;
  let lastAnswer = measureFrom;

  const worker = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const req = options.makeRequest(sent++);
      const began = performance.now();
      let outcome: string;
      try {
        const status = await send(agent, url, req);
        outcome = status === options.okStatus ? "ok" : `HTTP ${status}`;
      } catch (error) {
        outcome = (error as NodeJS.ErrnoException).code ?? "error";
      }
      const ended = performance.now();
      if (outcome === "ok") totalOk++;
      if (began < measureFrom) continue;
      lastAnswer = Math.max(lastAnswer, ended);
      latencies.push(ended - began);
      if (outcome === "ok") ok++;
      else failures.set(outcome, (failures.get(outcome) ?? 0) + 1);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    agent.destroy();
  }

  const sorted = Float64Array.from(latencies).sort();
  const elapsedMs = lastAnswer - measureFrom;
  return {
    requests: latencies.length,
    ok,
    totalOk,
    failures,
    okPerSecond: ok / (elapsedMs / 1000),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    latencies: sorted,
    elapsedMs,
  };
}

/** Several runs against one server as if they were one: rates over the summed windows, percentiles over all requests. */
export function combineLoads(results: readonly LoadResult[]): LoadResult {
  const failures = new Map<string, number>();
  for (const result of results) {
    for (const [what, count] of result.failures) failures.set(what, (failures.get(what) ?? 0) + count);
  }
  const sum = (pick: (result: LoadResult) => number): number =>
    results.reduce((total, result) => total + pick(result), 0);
  const latencies = new Float64Array(sum((r) => r.latencies.length));
  let at = 0;
  for (const result of results) {
    latencies.set(result.latencies, at);
    at += result.latencies.length;
  }
  latencies.sort();
  const elapsedMs = sum((r) => r.elapsedMs);
  const ok = sum((r) => r.ok);
  return {
    requests: latencies.length,
    ok,
    totalOk: sum((r) => r.totalOk),
    failures,
    okPerSecond: ok / (elapsedMs / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    latencies,
    elapsedMs,
  };
}
