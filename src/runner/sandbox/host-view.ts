/**
 * From the host as it is now to a SandboxPlan: which system paths exist and
 * how (directory or merged-/usr symlink), where node and the hangar install
 * are, which of hangar's own files lie inside something the job will see.
 */
import { existsSync } from "node:fs";
import { lstat, readlink, realpath, stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { ExecSpec } from "../executor.js";
import type { Bind, HiddenEntry, SandboxPlan, SystemEntry } from "./bwrap-args.js";
import type { SandboxSettings } from "./settings.js";
import { type StagedSource, Staging } from "./staging.js";

export const KVM_DEVICE = "/dev/kvm";
const RESOLV_CONF = "/etc/resolv.conf";

/** A directory the job sees read-only, with its real path on the host. */
interface VisibleTree {
  readonly path: string;
  readonly real: string;
}

function isInside(path: string, parent: string): boolean {
  const rel = relative(parent, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !rel.startsWith(sep));
}

async function realpathOrUndefined(path: string): Promise<string | undefined> {
  return realpath(path).catch(() => undefined);
}

/** The hangar package root: the nearest directory above this module holding package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the hangar package root above the sandbox module");
    dir = parent;
  }
  return dir;
}

/**
 * What of the hangar install a job needs for $HANGAR_CLI: its code, dependencies and
 * package.json. Not the package root, which may hold a config or a database.
 */
export function hangarInstall(): string[] {
  const root = packageRoot();
  return ["dist", "node_modules", "package.json"].map((name) => join(root, name)).filter(existsSync);
}

async function systemEntries(paths: readonly string[], staging: Staging): Promise<SystemEntry[]> {
  const entries: SystemEntry[] = [];
  for (const path of paths) {
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined) continue;
    // Merged /usr: /bin -> usr/bin is recreated as a link, so /bin/sh still means /usr/bin/sh.
    entries.push(
      info.isSymbolicLink()
        ? { kind: "symlink", path, target: await readlink(path) }
        : { kind: "dir", path, source: await staging.source(path) },
    );
  }
  return entries;
}

async function bind(path: string, staging: Staging): Promise<Bind> {
  return { path, source: await staging.source(path) };
}

async function visibleTrees(paths: readonly string[]): Promise<VisibleTree[]> {
  const trees: VisibleTree[] = [];
  for (const path of paths) {
    const real = await realpathOrUndefined(path);
    if (real !== undefined) trees.push({ path, real });
  }
  return trees;
}

/** Paths the job sees through a bind that must not be visible, as the job sees them. */
async function hiddenEntries(
  candidates: readonly string[],
  visible: readonly VisibleTree[],
  own: readonly string[],
): Promise<HiddenEntry[]> {
  const hidden = new Map<string, HiddenEntry>();
  for (const candidate of candidates) {
    const real = await realpathOrUndefined(candidate);
    if (real === undefined || own.some((mine) => isInside(real, mine))) continue;
    const tree = visible.find((t) => isInside(real, t.real));
    if (tree === undefined) continue;
    const info = await stat(real).catch(() => undefined);
    if (info === undefined) continue;
    const path = join(tree.path, relative(tree.real, real));
    hidden.set(path, { kind: info.isDirectory() ? "dir" : "file", path });
  }
  const entries = [...hidden.values()];
  // What lies inside a hidden directory is hidden with it.
  return entries.filter(
    (entry) =>
      !entries.some((other) => other !== entry && other.kind === "dir" && isInside(entry.path, other.path)),
  );
}

/** When /etc/resolv.conf links outside what the job sees (systemd-resolved), the file it names. */
async function resolvConfTarget(visible: readonly VisibleTree[]): Promise<string | undefined> {
  const link = await readlink(RESOLV_CONF).catch(() => undefined);
  if (link === undefined) return undefined;
  const target = resolve(dirname(RESOLV_CONF), link);
  const real = await realpathOrUndefined(target);
  if (real === undefined || visible.some((tree) => isInside(real, tree.real))) return undefined;
  return target;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** The job's own tmp directory, bound at /tmp, unless the job directory itself lies under /tmp. */
async function tmpPlan(
  spec: ExecSpec,
  settings: SandboxSettings,
  staging: Staging,
): Promise<SandboxPlan["tmp"]> {
  const own = join(spec.jobDir, "tmp");
  if (!isInside(spec.jobDir, "/tmp") && (await isDirectory(own))) return { bind: await staging.source(own) };
  return { tmpfsBytes: Math.min(settings.diskMiB, settings.memoryMiB) * 1024 * 1024 };
}

export interface HostView {
  readonly plan: SandboxPlan;
  /** Supplementary groups the job keeps (the group of /dev/kvm, for jobs that need it). */
  readonly groups: readonly number[];
  /** Sources the launcher must mount where the sandbox user can reach them. */
  readonly staged: readonly StagedSource[];
}

/** switchUser false: the job keeps the worker's user and groups (it is not root). */
export async function planSandbox(
  spec: ExecSpec,
  settings: SandboxSettings,
  env: Readonly<Record<string, string>>,
  switchUser = true,
): Promise<HostView> {
  const kvm = spec.capabilities?.includes("kvm") === true && existsSync(KVM_DEVICE);
  const kvmGroup = kvm ? (await stat(KVM_DEVICE)).gid : 0;
  // Group root would open far more than /dev/kvm: then the device's other permission bits decide.
  const groups = switchUser ? (kvmGroup !== 0 ? [kvmGroup] : []) : (process.getgroups?.() ?? []);
  const staging = new Staging({ uid: settings.uid, gid: settings.gid, groups });
  // The job directory first: its tmp and secrets are then read through the same staged mount.
  const jobDir = await bind(spec.jobDir, staging);
  const system = await systemEntries(settings.systemPaths, staging);
  const systemDirs = await visibleTrees(system.filter((e) => e.kind === "dir").map((e) => e.path));
  const readOnlyPaths: string[] = [];
  for (const path of [process.execPath, ...hangarInstall()]) {
    const real = await realpathOrUndefined(path);
    if (real !== undefined && !systemDirs.some((tree) => isInside(real, tree.real))) readOnlyPaths.push(path);
  }
  const readOnly: Bind[] = [];
  for (const path of readOnlyPaths) readOnly.push(await bind(path, staging));
  const visible = [...systemDirs, ...(await visibleTrees(readOnlyPaths))];
  const own = [spec.jobDir, ...(spec.secretsDir ? [spec.secretsDir] : [])];
  const ownReal = (await Promise.all(own.map(realpathOrUndefined))).filter((p) => p !== undefined);
  // Other jobs' directories are the job directory's siblings: hidden with the rest of workDir.
  // A /var/tmp of the host (when /var is a system path) is the host's, not the job's.
  const candidates = [...settings.hide, dirname(spec.jobDir), "/var/tmp"];
  const hidden = await hiddenEntries(candidates, visible, ownReal);
  const resolvConf = spec.network ? await resolvConfTarget(visible) : undefined;
  const shared: Bind[] = [];
  if (spec.trusted === true) {
    for (const path of settings.trustedPaths)
      if (await isDirectory(path)) shared.push(await bind(path, staging));
  }
  const plan: SandboxPlan = {
    uid: settings.uid,
    gid: settings.gid,
    system,
    readOnly,
    hidden,
    jobDir,
    shared,
    ...(spec.secretsDir ? { secretsDir: await bind(spec.secretsDir, staging) } : {}),
    tmp: await tmpPlan(spec, settings, staging),
    varTmpLink: !visible.some((tree) => isInside("/var/tmp", tree.path)),
    ...(resolvConf ? { resolvConf } : {}),
    network: spec.network,
    devices: kvm ? [KVM_DEVICE] : [],
    chdir: spec.checkout,
    env,
  };
  return { plan, groups, staged: staging.staged };
}
