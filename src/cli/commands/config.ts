/** `hangar config check FILE`: validate a configuration and the secrets it names, without starting anything. */
import type { Command } from "commander";
import {
  ConfigError,
  loadConfigFile,
  resolveSecret,
  SecretError,
  type SecretRef,
} from "../../config/index.js";

function secretRefs(config: ReturnType<typeof loadConfigFile>["config"]): [string, SecretRef][] {
  const refs: [string, SecretRef | undefined][] = [
    ["webhook.secret", config.webhook.secret],
    ["forge.github.token", config.forge.github.token],
    ["queue.amqp.tls.ca", config.queue.amqp?.tls?.ca],
    ["queue.amqp.tls.cert", config.queue.amqp?.tls?.cert],
    ["queue.amqp.tls.key", config.queue.amqp?.tls?.key],
    ["queue.signingKey", config.queue.signingKey],
    ...Object.entries(config.worker.secrets).map(([name, ref]): [string, SecretRef] => [
      `worker.secrets.${name}`,
      ref,
    ]),
  ];
  return refs.filter((entry): entry is [string, SecretRef] => entry[1] !== undefined);
}

function check(file: string): void {
  const loaded = loadConfigFile(file);
  const problems: string[] = [];
  for (const [key, ref] of secretRefs(loaded.config)) {
    try {
      resolveSecret(ref, key, { env: process.env, baseDir: loaded.baseDir });
    } catch (error) {
      if (!(error instanceof SecretError)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  const projects = Object.keys(loaded.config.projects);
  process.stdout.write(
    `${file}: OK (queue ${loaded.config.queue.driver}, store ${loaded.config.store.driver}, ${projects.length} project(s)${projects.length ? `: ${projects.join(", ")}` : ""})\n`,
  );
}

export function register(program: Command): void {
  const config = program.command("config").description("work with hangar.yaml");
  config
    .command("check")
    .description("validate a configuration file and check that every secret it names can be read")
    .argument("<file>", "the hangar.yaml to check")
    .action((file: string) => check(file));
}
