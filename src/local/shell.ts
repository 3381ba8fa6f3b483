/**
 * `hangar local -i`: an interactive shell inside the running deployment, with
 * its settings in the environment and `hangar` on PATH. The deployment stays
 * up until the shell exits.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RabbitNode } from "./rabbit-node.js";

const CLI = fileURLToPath(new URL("../cli/main.js", import.meta.url));

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/** A `hangar` that runs this very installation, with this Node. */
export async function writeHangarWrapper(binDir: string): Promise<string> {
  await mkdir(binDir, { recursive: true });
  const path = join(binDir, "hangar");
  await writeFile(path, `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(CLI)} "$@"\n`);
  await chmod(path, 0o755);
  return path;
}

/** `rabbitmqctl` that talks to the private node (its cookie, epmd and name). */
export async function writeRabbitmqctlWrapper(binDir: string, node: RabbitNode): Promise<void> {
  await mkdir(binDir, { recursive: true });
  const { path, env } = node.ctlCommand;
  const exports = Object.entries(env).map(([name, value]) => `export ${name}=${quote(value)}`);
  const script = ["#!/bin/sh", ...exports, `exec ${quote(path)} -n ${quote(node.name)} "$@"`, ""].join("\n");
  await writeFile(join(binDir, "rabbitmqctl"), script);
  await chmod(join(binDir, "rabbitmqctl"), 0o755);
}

export interface ShellOptions {
  /** $SHELL, or /bin/bash. */
  readonly shell: string;
  readonly cwd: string;
  /** Variables to export on top of this process's environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly binDir: string;
  /** Aborting hangs up the shell (SIGHUP), as closing its terminal would. */
  readonly signal?: AbortSignal;
}

/** Runs the shell on this terminal; resolves with its exit code. */
export async function runShell(options: ShellOptions): Promise<number> {
  // The terminal's Ctrl-C and Ctrl-\ reach every process of the foreground group: they are the shell's.
  const ignore = () => undefined;
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGQUIT"];
  for (const signal of signals) process.on(signal, ignore);
  try {
    const child = spawn(options.shell, [], {
      cwd: options.cwd,
      stdio: "inherit",
      env: {
        ...process.env,
        ...options.env,
        PATH: `${options.binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      },
    });
    const hangUp = () => child.kill("SIGHUP");
    options.signal?.addEventListener("abort", hangUp, { once: true });
    const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
    options.signal?.removeEventListener("abort", hangUp);
    return code ?? (signal ? 128 : 1);
  } finally {
    for (const signal of signals) process.off(signal, ignore);
  }
}
