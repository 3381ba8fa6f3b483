/**
 * A private RabbitMQ node (test/queue/fixtures/rabbit-node.ts) that takes
 * AMQP over TLS only with a client certificate from our CA, and logs the
 * client in as the certificate's common name (SASL EXTERNAL).
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type RabbitNode, startRabbitNode } from "../queue/fixtures/rabbit-node.js";

export interface TlsNodeFiles {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

export interface TlsNode {
  readonly node: RabbitNode;
  /** The TLS listener on 127.0.0.1. */
  readonly tlsPort: number;
}

/** The plugin that provides SASL EXTERNAL. */
const EXTERNAL_PLUGIN = "rabbitmq_auth_mechanism_ssl";

export async function startTlsNode(files: TlsNodeFiles, user: string): Promise<TlsNode> {
  // The shared fixture enables no plugins; RabbitMQ reads this variable
  // instead of its enabled_plugins file, and the fixture passes our environment on.
  const before = process.env.RABBITMQ_ENABLED_PLUGINS;
  process.env.RABBITMQ_ENABLED_PLUGINS = EXTERNAL_PLUGIN;
  let node: RabbitNode;
  try {
    node = await startRabbitNode({
      extraPorts: 1,
      config: ({ extra }) =>
        [
          `listeners.ssl.1 = 127.0.0.1:${extra[0]}`,
          `ssl_options.cacertfile = ${files.caCert}`,
          `ssl_options.certfile = ${files.serverCert}`,
          `ssl_options.keyfile = ${files.serverKey}`,
          "ssl_options.verify = verify_peer",
          "ssl_options.fail_if_no_peer_cert = true",
          "auth_mechanisms.1 = EXTERNAL",
          // For the fixture's readiness probe (guest on the plain loopback listener) only.
          "auth_mechanisms.2 = PLAIN",
          "ssl_cert_login_from = common_name",
        ].join("\n"),
    });
  } finally {
    if (before === undefined) delete process.env.RABBITMQ_ENABLED_PLUGINS;
    else process.env.RABBITMQ_ENABLED_PLUGINS = before;
  }
  try {
    await node.ctl("add_user", user, randomBytes(24).toString("hex"));
    await node.ctl("clear_password", user);
    await node.ctl("set_permissions", user, ".*", ".*", ".*");
  } catch (error) {
    await node.destroy();
    throw error;
  }
  const tlsPort = node.extraPorts[0];
  if (tlsPort === undefined) throw new Error("the fixture reserved no TLS port");
  return { node, tlsPort };
}

/**
 * Pids of processes started for this node (the Erlang VM and its helpers):
 * RabbitMQ takes the node name from the environment, not the command line.
 */
export function nodeProcesses(nodeName: string): number[] {
  const marker = `RABBITMQ_NODENAME=${nodeName}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(join("/proc", entry, "environ"), "latin1").includes(marker)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}
