/**
 * What the executors need to contain a job (`worker.sandbox`), in one value:
 * undefined means `mode: none`, jobs run as the worker does.
 */
import type { LoadedConfig } from "../../config/index.js";
import { hangarStatePaths } from "./state-paths.js";

export interface SandboxSettings {
  /** The bubblewrap binary (process executor). */
  readonly bwrap: string;
  /** Host uid and gid the job runs as: dedicated to jobs, never the worker's. */
  readonly uid: number;
  readonly gid: number;
  readonly maxProcesses: number;
  readonly memoryMiB: number;
  /** Past this much in the job's directory, the job is stopped; no single file may grow beyond it. */
  readonly diskMiB: number;
  /** Host directories the job sees read-only (those that exist). */
  readonly systemPaths: readonly string[];
  /** Host paths hidden from the job even where a visible directory holds them. */
  readonly hide: readonly string[];
  /** Host directories trusted jobs may write, at the same path; untrusted jobs never see them. */
  readonly trustedPaths: readonly string[];
}

const MIB = 1024 * 1024;

export function mebibytes(mib: number): number {
  return mib * MIB;
}

/** The sandbox hangar.yaml asks for; undefined with `worker.sandbox.mode: none`. */
export function sandboxSettings(loaded: LoadedConfig, workDir?: string): SandboxSettings | undefined {
  const sandbox = loaded.config.worker.sandbox;
  if (sandbox.mode === "none") return undefined;
  return {
    bwrap: sandbox.bwrap,
    uid: sandbox.uid,
    gid: sandbox.gid,
    maxProcesses: sandbox.maxProcesses,
    memoryMiB: sandbox.memoryMiB,
    diskMiB: sandbox.diskMiB,
    systemPaths: sandbox.systemPaths,
    hide: [...sandbox.hide, ...hangarStatePaths(loaded, workDir)],
    trustedPaths: sandbox.trustedPaths,
  };
}
