/** `hangar github-emulator`: a standalone GitHub emulator that other processes talk to and drive. */
import type { Command } from "commander";
import { resolveSecret } from "../../config/index.js";
import { startEmulator } from "../../emulator/index.js";
import { UsageError } from "../errors.js";

interface EmulatorCommandOptions {
  dir: string;
  listen: string;
  webhookUrl?: string;
  webhookSecretFile?: string;
  tokenFile?: string;
  user?: string;
}

export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[\w.-]+):(\d{1,5})$/.exec(listen);
  const port = Number(match?.[2]);
  if (!match?.[1] || !(port >= 0 && port <= 65535))
    throw new UsageError(`--listen: expected host:port, got ${JSON.stringify(listen)}`);
  return { host: match[1].replace(/^\[|\]$/g, ""), port };
}

function readSecretFile(option: string, path: string): string {
  return resolveSecret({ file: path }, option, { env: process.env, baseDir: process.cwd() });
}

export function register(program: Command): void {
  program
    .command("github-emulator")
    .description("run a stand-in for the GitHub API with real git repositories and signed webhooks")
    .option("--dir <dir>", "directory of the bare repositories (also the clone base)", "hangar-emulator")
    .option("--listen <host:port>", "where the API listens; port 0 picks a free one", "127.0.0.1:0")
    .option("--webhook-url <url>", "where to deliver webhooks")
    .option("--webhook-secret-file <file>", "file holding the secret webhooks are signed with")
    .option("--token-file <file>", "file holding the token API requests must carry")
    .option("--user <login>", "the login the token stands for", "hangar-bot")
    .action(async (options: EmulatorCommandOptions) => {
      const { host, port } = parseListen(options.listen);
      if ((options.webhookUrl === undefined) !== (options.webhookSecretFile === undefined)) {
        throw new UsageError("--webhook-url and --webhook-secret-file go together");
      }
      const webhook =
        options.webhookUrl !== undefined && options.webhookSecretFile !== undefined
          ? {
              url: options.webhookUrl,
              secret: readSecretFile("--webhook-secret-file", options.webhookSecretFile),
            }
          : null;
      const emulator = await startEmulator({
        dir: options.dir,
        host,
        port,
        webhook,
        ...(options.tokenFile === undefined
          ? {}
          : { token: readSecretFile("--token-file", options.tokenFile) }),
        ...(options.user === undefined ? {} : { user: options.user }),
      });
      process.stdout.write(
        `api: ${emulator.url}\nclone: ${emulator.cloneBase}\ncontrol: ${emulator.url}/_emulator\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          resolve();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      await emulator.close();
    });
}
