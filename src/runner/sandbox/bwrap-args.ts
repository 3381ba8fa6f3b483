/**
 * The sandbox of the process executor, in one place: the bubblewrap arguments
 * for one job, each namespace and mount with the reason it is there.
 *
 * The job starts from an empty root (a tmpfs bwrap makes, read-only once set
 * up) and gets only what is listed here: an allow-list, never a deny-list.
 * What the host decides (which system paths exist, which of hangar's files
 * must be hidden) is resolved beforehand into a SandboxPlan (host-view.ts);
 * this file only turns a plan into arguments, so it can be read and tested as
 * the description of the sandbox.
 */

/**
 * A host path bound at `path` in the sandbox, read from `source`: the path itself, or where
 * the launcher staged it when the sandbox user cannot reach it (staging.ts).
 */
export interface Bind {
  readonly source: string;
  readonly path: string;
}

/** A system path as found on the host: a directory to bind, or a symlink to recreate (/bin -> usr/bin). */
export type SystemEntry =
  | ({ readonly kind: "dir" } & Bind)
  | { readonly kind: "symlink"; readonly path: string; readonly target: string };

/** A host path to hide: a directory gets an empty read-only tmpfs over it, a file an unreadable stand-in. */
export interface HiddenEntry {
  readonly kind: "dir" | "file";
  readonly path: string;
}

export interface SandboxPlan {
  readonly uid: number;
  readonly gid: number;
  readonly system: readonly SystemEntry[];
  /** Files and directories the job needs read-only at their host path (node, the hangar install). */
  readonly readOnly: readonly Bind[];
  readonly hidden: readonly HiddenEntry[];
  /** The job's own directory: the only writable host directory but the shared ones below. */
  readonly jobDir: Bind;
  /** worker.sandbox.trustedPaths, for trusted jobs only (caches, an exchange with a harness). */
  readonly shared: readonly Bind[];
  /** Bound read-only over (or beside) the job directory: the job's secrets. */
  readonly secretsDir?: Bind;
  /** /tmp: the job's own tmp directory (its source) when it has one outside /tmp, else a tmpfs of this size. */
  readonly tmp: { readonly bind: string } | { readonly tmpfsBytes: number };
  /** Whether /var/tmp must be made (a symlink to /tmp): no system path provides it. */
  readonly varTmpLink: boolean;
  /** A resolv.conf outside the system paths that /etc/resolv.conf points to (network jobs only). */
  readonly resolvConf?: string;
  readonly network: boolean;
  /** Device nodes of the host the job may use (/dev/kvm for jobs that need KVM). */
  readonly devices: readonly string[];
  readonly chdir: string;
  readonly env: Readonly<Record<string, string>>;
}

const namespaces = (plan: SandboxPlan): string[] => [
  // New user, IPC, PID, network, UTS and cgroup namespaces. The PID namespace makes every
  // process of the job die with it (bwrap's pid 1 is the reaper; `setsid` escapes nothing);
  // the network namespace has only its own loopback.
  "--unshare-all",
  // Fail rather than run without a user namespace (the mounts below need it).
  "--unshare-user",
  // Trusted jobs may keep the host's network (configurable per context).
  ...(plan.network ? ["--share-net"] : []),
  // No nested user namespaces: they are a large kernel attack surface and no test needs them.
  "--disable-userns",
  // The job dies when the worker dies, even by SIGKILL.
  "--die-with-parent",
  // A new session: the job cannot push keystrokes into a terminal of the worker (TIOCSTI).
  "--new-session",
  // Inside, the same ids as outside: files the job writes belong to the sandbox user either way.
  "--uid",
  String(plan.uid),
  "--gid",
  String(plan.gid),
];

/** The host's system directories, read-only; merged-/usr symlinks recreated, not followed. */
const system = (plan: SandboxPlan): string[] =>
  plan.system.flatMap((entry) =>
    entry.kind === "dir" ? ["--ro-bind", entry.source, entry.path] : ["--symlink", entry.target, entry.path],
  );

/** node and the hangar CLI a job may call ($HANGAR_NODE, $HANGAR_CLI), read-only. */
const readOnly = (plan: SandboxPlan): string[] =>
  plan.readOnly.flatMap((bind) => ["--ro-bind", bind.source, bind.path]);

const kernelFilesystems = (plan: SandboxPlan): string[] => [
  // A minimal /dev (null, zero, random, tty, pts, shm), not the host's.
  "--dev",
  "/dev",
  ...plan.devices.flatMap((device) => ["--dev-bind", device, device]),
  // A /proc of the job's PID namespace: no other process of the host is in it.
  "--proc",
  "/proc",
];

/** hangar's own config, secrets and state wherever a visible directory holds them. */
const hidden = (plan: SandboxPlan): string[] =>
  plan.hidden.flatMap((entry) =>
    entry.kind === "dir"
      ? ["--tmpfs", entry.path]
      : // bwrap's binds are nodev: the stand-in cannot even be opened.
        ["--ro-bind", "/dev/null", entry.path],
  );

/** The empty directories over hidden ones go read-only last: the job directory may sit inside one (workDir). */
const sealHidden = (plan: SandboxPlan): string[] =>
  plan.hidden.flatMap((entry) => (entry.kind === "dir" ? ["--remount-ro", entry.path] : []));

/** /tmp first: anything else that lies under /tmp (often the job directory) is mounted inside it. */
const tmp = (plan: SandboxPlan): string[] => [
  ...("bind" in plan.tmp
    ? ["--bind", plan.tmp.bind, "/tmp"]
    : ["--size", String(plan.tmp.tmpfsBytes), "--tmpfs", "/tmp"]),
  ...(plan.varTmpLink ? ["--symlink", "/tmp", "/var/tmp"] : []),
];

const jobFiles = (plan: SandboxPlan): string[] => [
  // The job's directory at its host path (checkout, home, attachments, tmp): paths in its
  // environment mean the same inside and out. Bound after the hiding, which may cover workDir.
  "--bind",
  plan.jobDir.source,
  plan.jobDir.path,
  // Its secrets, if it has any, read-only even though they are inside the job directory.
  ...(plan.secretsDir ? ["--ro-bind", plan.secretsDir.source, plan.secretsDir.path] : []),
  // Directories the operator shares with trusted jobs, writable, at their host paths.
  ...plan.shared.flatMap((shared) => ["--bind", shared.source, shared.path]),
];

const network = (plan: SandboxPlan): string[] =>
  plan.resolvConf ? ["--ro-bind", plan.resolvConf, plan.resolvConf] : [];

const environment = (plan: SandboxPlan): string[] => [
  // Only the job's environment: nothing of the worker's (tokens, broker URLs) passes.
  "--clearenv",
  ...Object.entries(plan.env).flatMap(([key, value]) => ["--setenv", key, value]),
];

/** bwrap's arguments for the plan, up to (not including) the command. */
export function bwrapArguments(plan: SandboxPlan): string[] {
  return [
    ...namespaces(plan),
    ...tmp(plan),
    ...system(plan),
    ...readOnly(plan),
    ...kernelFilesystems(plan),
    ...hidden(plan),
    ...network(plan),
    ...jobFiles(plan),
    ...sealHidden(plan),
    // Nothing but the job directory, /tmp and /dev/shm is writable: the root tmpfs goes read-only.
    "--remount-ro",
    "/",
    "--chdir",
    plan.chdir,
    ...environment(plan),
  ];
}
