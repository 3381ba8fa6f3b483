/**
 * The deployment's RabbitMQ (ConfigMap hangar-rabbitmq) as a private local
 * node: the same rabbitmq.conf, plugins and definitions, with only the
 * listener's address and the file paths replaced, and certificates generated
 * by the same code as `hangar secrets generate`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { type CertificateSet, generateCertificates } from "../config/certificates.js";
import type { DeploymentFiles } from "../deploy/index.js";
import { formatRabbitConf, parseRabbitConf, type RabbitConf } from "../deploy/index.js";
import { type RabbitNode, startRabbitNode } from "./rabbit-node.js";

/** rabbitmq.conf keys `hangar local` sets itself; every other key is taken as the ConfigMap has it. */
export const RABBIT_LOCAL_KEYS = ["listeners.ssl.default"] as const;

/** Directories of the production files; a path in one of them becomes the same file name locally. */
export const RABBIT_PRODUCTION_DIRS = ["/etc/hangar-rabbitmq-tls/", "/etc/hangar-rabbitmq/"] as const;

/** The ConfigMap's rabbitmq.conf with a local TLS port and file paths in `dir`. */
export function localRabbitConf(production: string, port: number, dir: string): RabbitConf {
  const conf = parseRabbitConf(production, "ConfigMap hangar-rabbitmq, rabbitmq.conf");
  for (const [key, value] of conf) {
    if (RABBIT_PRODUCTION_DIRS.some((prefix) => value.startsWith(prefix)))
      conf.set(key, join(dir, basename(value)));
  }
  conf.set("listeners.ssl.default", `127.0.0.1:${port}`);
  return conf;
}

/** The user hangar's client certificate must name: the first one of definitions.json. */
export function definedUser(definitions: string): string {
  const parsed = JSON.parse(definitions) as { users?: { name?: unknown }[] };
  const name = parsed.users?.[0]?.name;
  if (typeof name !== "string")
    throw new Error("definitions.json of ConfigMap hangar-rabbitmq names no user");
  return name;
}

export interface LocalRabbit {
  readonly node: RabbitNode;
  /** amqps://localhost:PORT, for queue.amqp.url. */
  readonly url: string;
  /** The client side of the certificates: ca.crt, client.crt, client.key. */
  readonly certificates: CertificateSet;
}

export async function startLocalRabbit(files: DeploymentFiles, dir: string): Promise<LocalRabbit> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certificates = await generateCertificates({ clientName: definedUser(files.definitions) });
  const write = (name: string, content: string) => writeFileSync(join(dir, name), content, { mode: 0o600 });
  write("ca.crt", certificates.caCert);
  write("rabbitmq-server.crt", certificates.serverCert);
  write("rabbitmq-server.key", certificates.serverKey);
  write("definitions.json", files.definitions);
  const node = await startRabbitNode({
    dir,
    config: (ports) => formatRabbitConf(localRabbitConf(files.rabbitmqConf, ports.tls, dir)),
    enabledPlugins: files.enabledPlugins,
  });
  return { node, url: `amqps://localhost:${node.ports.tls}`, certificates };
}
