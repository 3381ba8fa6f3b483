/** The throwaway directory `hangar local` runs in: hangar.yaml, fake secrets, queue, store, logs. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

export interface Workspace {
  readonly dir: string;
  readonly configFile: string;
  readonly gitDir: string;
  readonly logFile: string;
  readonly rabbitDir: string;
  readonly binDir: string;
  remove(): Promise<void>;
}

export async function createWorkspace(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), "hangar-local-"));
  return {
    dir,
    configFile: join(dir, "hangar.yaml"),
    gitDir: join(dir, "git"),
    logFile: join(dir, "hangar.log"),
    rabbitDir: join(dir, "rabbitmq"),
    binDir: join(dir, "bin"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export async function writeConfig(workspace: Workspace, config: unknown, source: string): Promise<void> {
  const header = [
    "# Written by `hangar local` from",
    `#   ${source}`,
    "# with local ports, endpoints, fake secrets and state directories; `hangar serve --config` runs it.",
    "",
  ].join("\n");
  await writeFile(workspace.configFile, header + stringify(config));
}
