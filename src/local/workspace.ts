/** The throwaway directory `hangar local` runs in: fake secrets, the emulator's repositories, hangar.yaml. */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { ConfigInput } from "../config/index.js";
import { DEMO_AUTHOR, DEMO_PROJECTS } from "./demo.js";

export interface Workspace {
  readonly dir: string;
  readonly configFile: string;
  readonly gitDir: string;
  readonly logFile: string;
  readonly webhookSecret: string;
  readonly githubToken: string;
  remove(): Promise<void>;
}

/** Fake secrets: random, so nothing real can leak from a local run, and files like production's. */
async function writeSecret(dir: string, name: string): Promise<string> {
  const value = randomBytes(20).toString("hex");
  await writeFile(join(dir, name), `${value}\n`, { mode: 0o600 });
  return value;
}

/** The local configuration: embedded defaults, ports picked by the OS, the emulator as GitHub. */
export function localConfig(emulatorUrl: string): ConfigInput {
  return {
    webhook: { listen: "127.0.0.1:0", secret: { file: "webhook-secret" } },
    queue: { driver: "sqlite", sqlite: { path: "queue.sqlite" } },
    forge: { github: { api: emulatorUrl, clone: "git", token: { file: "github-token" }, post: true } },
    store: { driver: "fs", fs: { dir: "store", listen: "127.0.0.1:0" } },
    worker: { name: "local-worker", concurrency: 2, workDir: "work" },
    projects: DEMO_PROJECTS,
    trust: { users: [DEMO_AUTHOR] },
  };
}

export async function createWorkspace(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), "hangar-local-"));
  const webhookSecret = await writeSecret(dir, "webhook-secret");
  const githubToken = await writeSecret(dir, "github-token");
  return {
    dir,
    configFile: join(dir, "hangar.yaml"),
    gitDir: join(dir, "git"),
    logFile: join(dir, "hangar.log"),
    webhookSecret,
    githubToken,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export async function writeConfig(workspace: Workspace, config: ConfigInput): Promise<void> {
  const header = "# Written by `hangar local`; `hangar serve --config` runs the same setup.\n";
  await writeFile(workspace.configFile, header + stringify(config));
}
