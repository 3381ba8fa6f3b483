/**
 * The command line that starts a sandboxed job, outermost first:
 *
 *   sh (root)   joins the job's cgroups, then execs
 *   [unshare + sh, only when a bind source is out of the sandbox user's
 *               reach: a private mount namespace where it is staged
 *               (staging.ts)]
 *   prlimit     RLIMIT_FSIZE (no file beyond the disk cap), no core files,
 *               RLIMIT_NPROC where there are no cgroups
 *   setpriv     becomes the sandbox uid/gid, drops every other group (but
 *               /dev/kvm's for KVM jobs) and sets no_new_privs (a worker
 *               that is not root keeps its own user: only no_new_privs)
 *   bwrap       builds the sandbox (bwrap-args.ts; its arguments come through
 *               fd 3, so nothing of the job's environment shows in `ps`)
 *   sh (job)    inside: says on fd 4 that the sandbox is up and whether the
 *               command exists, closes fd 4, execs the command
 *
 * A job whose stub never speaks was not started: bwrap's own error says why.
 */
import { bwrapArguments } from "./bwrap-args.js";
import type { JobCgroup } from "./cgroup.js";
import type { HostView } from "./host-view.js";
import type { SandboxSettings } from "./settings.js";
import type { StagedSource } from "./staging.js";

/** Where bwrap reads its arguments (NUL-separated). */
export const ARGS_FD = 3;
/** Where the stub inside reports: STARTED, or MISSING when the command is not there. */
export const STATUS_FD = 4;
export const STARTED = "started";
export const MISSING = "missing";

/** The worker's tools run with this environment only: the job's never reaches a root process. */
export const LAUNCH_ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } as const;

const JOIN_CGROUPS = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';
const STAGE = 'while [ "$1" != -- ]; do mount --bind "$1" "$2" || exit 125; shift 2; done; shift; exec "$@"';
const STUB = `if command -v -- "$1" >/dev/null; then printf ${STARTED} >&${STATUS_FD}; else printf ${MISSING} >&${STATUS_FD}; exit 127; fi; exec ${STATUS_FD}>&-; exec "$@"`;

export interface SandboxLaunch {
  readonly file: string;
  readonly args: string[];
  /** To write, NUL-terminated each, into ARGS_FD. */
  readonly bwrapArgs: string[];
}

/** A private mount namespace with each staged source mounted at its mount point; nothing without any. */
function stage(staged: readonly StagedSource[]): string[] {
  if (staged.length === 0) return [];
  return [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "--",
    "/bin/sh",
    "-c",
    STAGE,
    "hangar-stage",
    ...staged.flatMap((s) => [s.source, s.mountPoint]),
    "--",
  ];
}

export function sandboxLaunch(options: {
  readonly settings: SandboxSettings;
  readonly view: HostView;
  readonly argv: readonly string[];
  readonly cgroup?: JobCgroup;
  /** False when the worker is not root: the job then runs as the worker's user. */
  readonly switchUser: boolean;
}): SandboxLaunch {
  const { settings, view } = options;
  const fileBytes = settings.diskMiB * 1024 * 1024;
  const limits = [
    `--fsize=${fileBytes}`,
    "--core=0",
    ...(options.cgroup ? [] : [`--nproc=${settings.maxProcesses}`]),
  ];
  const groups = view.groups.length > 0 ? [`--groups=${view.groups.join(",")}`] : ["--clear-groups"];
  const user = options.switchUser ? [`--reuid=${settings.uid}`, `--regid=${settings.gid}`, ...groups] : [];
  const args = [
    "-c",
    JOIN_CGROUPS,
    "hangar-sandbox",
    ...(options.cgroup?.procsFiles ?? []),
    "--",
    ...stage(view.staged),
    "prlimit",
    ...limits,
    "--",
    "setpriv",
    ...user,
    "--no-new-privs",
    "--",
    settings.bwrap,
    "--args",
    String(ARGS_FD),
    "--",
    "/bin/sh",
    "-c",
    STUB,
    "hangar-job",
    ...options.argv,
  ];
  return { file: "/bin/sh", args, bwrapArgs: bwrapArguments(view.plan) };
}
