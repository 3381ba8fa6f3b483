/**
 * The red-team catalogue: what an approved stranger's pull request tries
 * against the worker that runs it. Each job attack is a `.hangar/run` that
 * prints `ATTEMPTED <id>` first and `LEAK: <what>` whenever a step succeeds
 * that the sandbox must prevent; the range also looks for every canary
 * secret (and its encodings) in what the job left behind, and some attacks
 * check the host afterwards. Pipeline attacks go after the trust decisions
 * instead (a push after approval, a trigger on a closed PR, a forged entry).
 */
import type { FileMap } from "../../src/emulator/index.js";

/** What an attacker may know or guess of the deployment it runs in. */
export interface Target {
  /** The deployment's directory: config, secret files, queue, store, work dir. */
  readonly dir: string;
  readonly webhookPort: number;
  readonly storePort: number;
  readonly dashboardPort: number;
  readonly githubPort: number;
  /** Unique to this run, for traces an attack leaves on the host. */
  readonly marker: string;
  /** A file the range leaves in the host's /tmp for the duration of the attacks. */
  readonly hostTmpCanary: string;
  /** The disk cap of a job, MiB. */
  readonly diskMiB: number;
}

/** Who runs the code: an approved stranger (no secrets), or a trusted author whose job has the secret. */
export type Author = "stranger" | "trusted";

export interface JobAttack {
  readonly kind: "job";
  readonly id: string;
  readonly title: string;
  readonly author: Author;
  /** Extra files of the PR besides `.hangar/run`. */
  readonly files?: (target: Target) => FileMap;
  readonly script: (target: Target) => string;
  /** False where refusing to run at all is the containment (e.g. a bad .hangar/container). */
  readonly mustRun: boolean;
  /** A host-side check once the job ended: a leak's description, or undefined. */
  readonly after?: (target: Target) => Promise<string | undefined>;
}

export type PipelineAttackId = "push-after-approval" | "closed-pr-trigger" | "unsigned-entry";

export interface PipelineAttack {
  readonly kind: "pipeline";
  readonly id: PipelineAttackId;
  readonly title: string;
}

export type Attack = JobAttack | PipelineAttack;

/** Shell helpers every attack script starts with (POSIX sh: dash on the host, busybox in containers). */
const PRELUDE = `#!/bin/sh
set +e
leak() { echo "LEAK: $*"; }
bb() { if command -v busybox >/dev/null 2>&1; then busybox "$@"; else "$@"; fi; }
reach() { echo | bb nc -w 2 "$1" "$2" >/dev/null 2>&1; }
`;

function script(id: string, body: string): string {
  return `${PRELUDE}echo "ATTEMPTED ${id}"\n${body}\necho "DONE ${id}"\n`;
}

function readFileAttack(id: string, title: string, path: (t: Target) => string): JobAttack {
  return {
    kind: "job",
    id,
    title,
    author: "stranger",
    mustRun: true,
    script: (t) => script(id, `cat "${path(t)}" 2>&1 && leak "read ${path(t)}"`),
  };
}

function reachAttack(id: string, title: string, port: (t: Target) => number): JobAttack {
  return {
    kind: "job",
    id,
    title,
    author: "stranger",
    mustRun: true,
    script: (t) =>
      script(
        id,
        `for host in 127.0.0.1 localhost; do reach "$host" ${port(t)} && leak "connected to $host:${port(t)}"; done`,
      ),
  };
}

async function hostPathAbsent(path: string): Promise<string | undefined> {
  const { access } = await import("node:fs/promises");
  return access(path).then(
    () => `${path} exists on the host`,
    () => undefined,
  );
}

export const ATTACKS: readonly Attack[] = [
  readFileAttack("worker-secret-file", "read the worker's {file:} secret", (t) => `${t.dir}/api-token`),
  readFileAttack("github-token-file", "read the worker's GitHub token file", (t) => `${t.dir}/github-token`),
  readFileAttack("webhook-secret-file", "read the webhook secret file", (t) => `${t.dir}/webhook-secret`),
  readFileAttack("worker-config", "read the worker's config", (t) => `${t.dir}/hangar.yaml`),
  readFileAttack("queue-database", "read the queue database", (t) => `${t.dir}/queue.sqlite`),
  readFileAttack("host-shadow", "read /etc/shadow", () => "/etc/shadow"),
  {
    kind: "job",
    id: "store-directory",
    title: "list the store directory (other jobs' logs)",
    author: "stranger",
    mustRun: true,
    script: (t) =>
      script(
        "store-directory",
        `ls "${t.dir}/store" 2>&1 | head -3 && [ -d "${t.dir}/store" ] && leak "listed the store"`,
      ),
  },
  {
    kind: "job",
    id: "other-job-secrets",
    title: "read another running job's secrets and checkout",
    author: "stranger",
    mustRun: true,
    script: (t) =>
      script(
        "other-job-secrets",
        `for f in "${t.dir}"/work/*/secrets/* "${t.dir}"/work/*/checkout/victim.txt; do
  [ -r "$f" ] && { cat "$f"; leak "read $f"; }
done
ls "${t.dir}/work" 2>&1 | grep -c hangar-job | grep -qv '^[01]$' && leak "saw other jobs' directories"`,
      ),
  },
  {
    kind: "job",
    id: "proc-environ",
    title: "read /proc/*/environ (the worker's environment)",
    author: "stranger",
    mustRun: true,
    script: (t) =>
      script(
        "proc-environ",
        `for f in /proc/[0-9]*/environ; do
  tr '\\0' '\\n' < "$f" 2>/dev/null | grep -q "HANGAR_REDTEAM_CANARY" && leak "worker environment in $f"
done
tr '\\0' '\\n' < /proc/1/environ 2>/dev/null | grep HANGAR_REDTEAM_CANARY && leak "pid 1 environment"
true ${t.marker}`,
      ),
  },
  {
    kind: "job",
    id: "proc-cmdline",
    title: "read /proc/*/cmdline (find the worker and its config)",
    author: "stranger",
    mustRun: true,
    script: () =>
      script(
        "proc-cmdline",
        `for f in /proc/[0-9]*/cmdline; do
  tr '\\0' ' ' < "$f" 2>/dev/null | grep -q "hangar.yaml" && leak "worker command line in $f"
done`,
      ),
  },
  {
    kind: "job",
    id: "proc-root",
    title: "walk /proc/1/root and /proc/*/cwd to the host",
    author: "stranger",
    mustRun: true,
    script: (t) =>
      script(
        "proc-root",
        `for p in /proc/[0-9]*; do
  [ -r "$p/root${t.dir}/api-token" ] && leak "host file through $p/root"
  [ -r "$p/cwd/api-token" ] && leak "host file through $p/cwd"
done`,
      ),
  },
  readFileAttack("root-home", "read root's home (/root)", () => "/root/.bash_history"),
  {
    kind: "job",
    id: "host-tmp",
    title: "look into the host's /tmp (other deployments, spools)",
    author: "stranger",
    mustRun: true,
    script: (t) =>
      script(
        "host-tmp",
        // The sandbox makes empty directories on the paths to what it binds (the job's directory,
        // the hangar install); what counts is a host file: the canary the range left in /tmp, or
        // any of the deployment's files.
        `[ -e "${t.hostTmpCanary}" ] && leak "saw a file in the host's /tmp"
ls -A "${t.dir}" 2>/dev/null | grep -vx work | grep . && leak "saw the deployment directory's files"`,
      ),
  },
  reachAttack("reach-rabbitmq", "reach RabbitMQ (127.0.0.1:5672)", () => 5672),
  reachAttack("reach-webhook", "reach the webhook over the network", (t) => t.webhookPort),
  reachAttack("reach-dashboard", "reach the dashboard over the network", (t) => t.dashboardPort),
  reachAttack("reach-store", "reach the store's HTTP server", (t) => t.storePort),
  reachAttack("reach-github", "reach the GitHub API (emulator)", (t) => t.githubPort),
  {
    kind: "job",
    id: "write-outside",
    title: "write outside the job's directory",
    author: "stranger",
    mustRun: true,
    script: (t) =>
      script(
        "write-outside",
        `echo x > "${t.dir}/pwned-${t.marker}" 2>/dev/null
echo x > "/tmp/pwned-${t.marker}" 2>/dev/null
echo x > "/etc/pwned-${t.marker}" 2>/dev/null && leak "wrote into /etc"`,
      ),
    after: async (t) =>
      (await hostPathAbsent(`${t.dir}/pwned-${t.marker}`)) ?? hostPathAbsent(`/tmp/pwned-${t.marker}`),
  },
  {
    kind: "job",
    id: "trusted-share",
    title: "write into a directory shared with trusted jobs",
    author: "stranger",
    mustRun: true,
    script: (t) =>
      script(
        "trusted-share",
        `ls -A "${t.dir}/exchange" 2>/dev/null | grep . && leak "saw the shared directory"
echo x > "${t.dir}/exchange/pwned-${t.marker}" 2>/dev/null`,
      ),
    after: (t) => hostPathAbsent(`${t.dir}/exchange/pwned-${t.marker}`),
  },
  {
    kind: "job",
    id: "setsid-survivor",
    title: "leave a setsid process behind",
    author: "stranger",
    mustRun: true,
    script: (t) =>
      script(
        "setsid-survivor",
        `setsid sleep 4242.${t.marker.replace(/\D/g, "").slice(0, 6) || "1"} </dev/null >/dev/null 2>&1 &\nsleep 0.2`,
      ),
    after: async (t) => {
      const { survivor } = await import("./host.js");
      return survivor(`4242.${t.marker.replace(/\D/g, "").slice(0, 6) || "1"}`);
    },
  },
  {
    kind: "job",
    id: "kill-everything",
    title: "kill every process it can see (kill -9 -1)",
    author: "stranger",
    mustRun: true,
    script: () => script("kill-everything", "kill -9 -1 2>/dev/null\nsleep 1"),
  },
  {
    kind: "job",
    id: "fork-bomb",
    title: "fork bomb (the worker stays up, the next job runs)",
    author: "stranger",
    mustRun: true,
    script: () =>
      script("fork-bomb", `bomb() { bomb | bomb & }\n( bomb ) 2>/dev/null &\nsleep 5\necho "still here"`),
  },
  {
    kind: "job",
    id: "fill-disk",
    title: "fill the disk past the per-job cap",
    author: "stranger",
    mustRun: true,
    script: (t) =>
      script(
        "fill-disk",
        `mkdir -p fill
n=0
while [ $n -lt ${Math.ceil((t.diskMiB * 20) / 16)} ]; do
  dd if=/dev/zero of=fill/$n bs=1M count=16 2>/dev/null || break
  n=$((n + 1))
done
[ $n -ge ${Math.ceil((t.diskMiB * 20) / 16)} ] && leak "wrote $((n * 16)) MiB, 20 times the cap"`,
      ),
  },
  {
    kind: "job",
    id: "container-symlink-secret",
    title: "symlink .hangar/container to a secret file",
    author: "stranger",
    mustRun: false,
    files: (t) => ({ ".hangar/container": { symlink: `${t.dir}/api-token` } }),
    script: () => script("container-symlink-secret", "true"),
  },
  {
    kind: "job",
    id: "container-symlink-environ",
    title: "symlink .hangar/container to /proc/self/environ",
    author: "stranger",
    mustRun: false,
    files: () => ({ ".hangar/container": { symlink: "/proc/self/environ" } }),
    script: () => script("container-symlink-environ", "true"),
  },
  {
    kind: "job",
    id: "encoded-secret",
    title: "trusted job prints its secret base64-, URL- and JSON-encoded",
    author: "trusted",
    mustRun: true,
    script: () =>
      script(
        "encoded-secret",
        `s=$(cat "$HANGAR_SECRETS_DIR/api-token")
printf '%s' "$s" | bb base64 -w 0; echo
printf 'x%s' "$s" | bb base64 -w 0; echo
printf 'xy%s' "$s" | bb base64 -w 0; echo
printf '%s' "$s" | sed 's|/|%2F|g; s|+|%2B|g; s|=|%3D|g; s|&|%26|g; s|"|%22|g'; echo
printf '%s' "$s" | sed 's|"|\\\\"|g' | sed 's|^|{"token":"|; s|$|"}|'`,
      ),
  },
  {
    kind: "job",
    id: "secret-attachment",
    title: "trusted job writes its secret into an attachment",
    author: "trusted",
    mustRun: true,
    script: () =>
      script(
        "secret-attachment",
        `cat "$HANGAR_SECRETS_DIR/api-token" > "$TEST_ATTACHMENTS/token.txt"
printf '%s' "$(cat "$HANGAR_SECRETS_DIR/api-token")" | bb base64 > "$TEST_ATTACHMENTS/token.b64"`,
      ),
  },
  { kind: "pipeline", id: "push-after-approval", title: "push a new commit right after /hangar approve" },
  { kind: "pipeline", id: "closed-pr-trigger", title: "direct trigger on a closed PR's commit" },
  { kind: "pipeline", id: "unsigned-entry", title: "a queue writer's unsigned entry grants itself secrets" },
];
