/** The job sandbox: how a job is contained (bwrap-args.ts describes the process executor's). */
export { bwrapArguments, type SandboxPlan } from "./bwrap-args.js";
export { type SandboxSettings, sandboxSettings } from "./settings.js";
export { hangarStatePaths } from "./state-paths.js";
