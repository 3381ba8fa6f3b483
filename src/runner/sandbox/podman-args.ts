/**
 * The sandbox of the container executor: the podman `run` flags that give a
 * job the same guarantees as bwrap-args.ts gives a process. The container's
 * own namespaces (PID, mount, IPC, UTS) come with podman; these flags take
 * away what a container still has by default.
 *
 * Not used, and why (rootful podman 4 with runc on cgroups v1 here):
 *  - `--userns=auto` needs subordinate id ranges (/etc/subuid) for podman's
 *    "containers" user and an id-shifted copy of every image; the job already
 *    runs as an unprivileged host uid with no capabilities and
 *    no_new_privs, which a user namespace would only rename.
 *  - `--storage-opt size=` (a cap on the image's writable layer) needs overlay
 *    on XFS with project quotas; instead the image is read-only and every
 *    writable place (the job directory, /tmp, /var/tmp) is capped.
 */
import type { ExecSpec } from "../executor.js";
import { mebibytes, type SandboxSettings } from "./settings.js";

/** Where a container sees the job's secrets (HANGAR_SECRETS_DIR inside). */
export const CONTAINER_SECRETS_DIR = "/run/hangar/secrets";

/** A tmpfs the job owns (U: an image's /tmp may be root's 0755, which would stay so). */
function ownedTmpfs(path: string, bytes: number): string[] {
  return ["--tmpfs", `${path}:rw,nosuid,nodev,size=${bytes},mode=1777,U`];
}

export function podmanSandboxArgs(
  spec: ExecSpec,
  settings: SandboxSettings,
  devices: { readonly kvm: boolean; readonly kvmGroup: number },
): string[] {
  const fileBytes = mebibytes(settings.diskMiB);
  const tmpBytes = mebibytes(Math.min(settings.diskMiB, settings.memoryMiB));
  return [
    // The sandbox user; no capabilities, and no way to gain any (setuid files stay powerless).
    "--user",
    `${settings.uid}:${settings.gid}`,
    "--cap-drop=all",
    "--security-opt=no-new-privileges",
    // /dev/kvm only for jobs that need it, with the one group that opens it (never group root).
    ...(devices.kvm ? ["--device=/dev/kvm"] : []),
    ...(devices.kvm && devices.kvmGroup !== 0 ? ["--group-add", String(devices.kvmGroup)] : []),
    // The container's cgroup limits: processes (a fork bomb stays inside) and memory.
    "--pids-limit",
    String(settings.maxProcesses),
    "--memory",
    `${settings.memoryMiB}m`,
    // No file larger than the disk cap (the watchdog caps the sum), no core files.
    "--ulimit",
    `fsize=${fileBytes}:${fileBytes}`,
    "--ulimit",
    "core=0:0",
    // Untrusted jobs: a loopback of their own. Trusted ones keep podman's default network.
    ...(spec.network ? [] : ["--network=none"]),
    // Nothing of the image is writable; /tmp and /var/tmp are capped tmpfs.
    "--read-only",
    "--read-only-tmpfs=false",
    ...ownedTmpfs("/tmp", tmpBytes),
    ...ownedTmpfs("/var/tmp", tmpBytes),
    // The job's directory at its host path; nothing else of the host, no secret of the worker.
    "--volume",
    `${spec.jobDir}:${spec.jobDir}`,
    // Directories the operator shares with trusted jobs, writable, at their host paths.
    ...(spec.trusted === true
      ? settings.trustedPaths.flatMap((path) => ["--volume", `${path}:${path}`])
      : []),
    // Its own secrets read-only, also where they lie inside the job directory.
    ...(spec.secretsDir
      ? [
          "--volume",
          `${spec.secretsDir}:${CONTAINER_SECRETS_DIR}:ro`,
          "--volume",
          `${spec.secretsDir}:${spec.secretsDir}:ro`,
        ]
      : []),
  ];
}
