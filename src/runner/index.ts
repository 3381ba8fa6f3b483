export type { ExecOutcome, ExecSpec, Executor } from "./executor.js";
export { type JobDeps, runJob } from "./job.js";
export { ProcessExecutor } from "./process-executor.js";
export { type RunningWorker, startWorker, type WorkerOptions } from "./worker.js";
