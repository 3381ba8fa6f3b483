/**
 * A private RabbitMQ node for `hangar local --rabbitmq`: its own node name,
 * ports (TLS listener, Erlang distribution, epmd), data and log directories and
 * Erlang cookie, all inside one directory; the configuration files come from
 * the caller (the deployment's ConfigMap with local paths and ports).
 *
 * Debian's wrappers in /usr/sbin switch to the rabbitmq user and its HOME (and
 * so its cookie); the scripts in /usr/lib/rabbitmq/bin run as the caller, with
 * HOME in our directory so the node and rabbitmqctl share a cookie of their own.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { waitUntil } from "./wait.js";

const run = promisify(execFile);
const DEBIAN_BIN = "/usr/lib/rabbitmq/bin";
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 60_000;
const CTL_TIMEOUT_MS = 60_000;

export const RABBITMQ_INSTALL_HINT =
  "RabbitMQ is not installed. Install it (Debian, Ubuntu: `apt install rabbitmq-server`; Fedora: `dnf install rabbitmq-server`) or run without --rabbitmq to use the embedded SQLite queue.";

export class RabbitUnavailableError extends Error {
  override readonly name = "RabbitUnavailableError";
}

/** Where rabbitmq-server and rabbitmqctl are: $HANGAR_RABBITMQ_DIR, else Debian's directory, else PATH. */
function findBinary(name: string): string | undefined {
  const only = process.env.HANGAR_RABBITMQ_DIR;
  if (only !== undefined && only !== "") return existsSync(join(only, name)) ? join(only, name) : undefined;
  const debian = join(DEBIAN_BIN, name);
  if (existsSync(debian)) return debian;
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir !== "" && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Why no private node can start here (with how to fix it), or undefined. */
export function rabbitUnavailable(): string | undefined {
  return findBinary("rabbitmq-server") && findBinary("rabbitmqctl") ? undefined : RABBITMQ_INSTALL_HINT;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

export interface RabbitNodePorts {
  /** The AMQP-over-TLS listener on 127.0.0.1. */
  readonly tls: number;
  readonly dist: number;
  readonly epmd: number;
}

export interface RabbitNodeOptions {
  /** Directory the node lives in (created); the caller removes it. */
  readonly dir: string;
  /** rabbitmq.conf, given the ports. */
  readonly config: (ports: RabbitNodePorts) => string;
  /** enabled_plugins, Erlang term syntax: `[rabbitmq_auth_mechanism_ssl].` */
  readonly enabledPlugins: string;
}

export interface RabbitNode {
  /** Erlang node name, e.g. `hangar-local-1a2b3c4d@localhost`. */
  readonly name: string;
  readonly dir: string;
  readonly ports: RabbitNodePorts;
  /** rabbitmqctl with this node's name and cookie. */
  ctl(...args: string[]): Promise<string>;
  /** How to run rabbitmqctl by hand: the binary and the environment that finds this node. */
  readonly ctlCommand: { readonly path: string; readonly env: Readonly<Record<string, string>> };
  /** Pids of the processes running for this node (the Erlang VM, its helpers, its epmd). */
  processes(): number[];
  /** Stop the node and its epmd; kill what does not stop. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Processes started for a node: RabbitMQ takes the node name from the
 * environment, which every process it starts (epmd too) inherits.
 */
export function processesWithEnv(variable: string, value: string): number[] {
  const marker = `${variable}=${value}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (`\0${readFileSync(join("/proc", entry, "environ"), "latin1")}`.includes(`\0${marker}`))
        pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

export async function startRabbitNode(options: RabbitNodeOptions): Promise<RabbitNode> {
  const server = findBinary("rabbitmq-server");
  const rabbitmqctl = findBinary("rabbitmqctl");
  if (server === undefined || rabbitmqctl === undefined)
    throw new RabbitUnavailableError(RABBITMQ_INSTALL_HINT);
  const { dir } = options;
  const name = `hangar-local-${randomBytes(4).toString("hex")}@localhost`;
  const ports: RabbitNodePorts = { tls: await freePort(), dist: await freePort(), epmd: await freePort() };
  mkdirSync(join(dir, "log"), { recursive: true });
  const configFile = join(dir, "rabbitmq.conf");
  writeFileSync(configFile, options.config(ports));
  writeFileSync(join(dir, "enabled_plugins"), options.enabledPlugins);
  // Replaces /etc/rabbitmq/rabbitmq-env.conf, which names the system's node.
  writeFileSync(join(dir, "rabbitmq-env.conf"), "");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODENAME: name,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_DIST_PORT: String(ports.dist),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_CONFIG_FILE: configFile,
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, "advanced.config"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_CONF_ENV_FILE: join(dir, "rabbitmq-env.conf"),
    // An epmd of our own, so nothing of this node outlives it.
    ERL_EPMD_ADDRESS: "127.0.0.1",
    ERL_EPMD_PORT: String(ports.epmd),
  };

  const ctl = async (...args: string[]): Promise<string> => {
    const { stdout } = await run(rabbitmqctl, ["-n", name, ...args], { env, timeout: CTL_TIMEOUT_MS });
    return stdout;
  };
  const processes = () => processesWithEnv("RABBITMQ_NODENAME", name);

  const out = openSync(join(dir, "log", "server.out"), "a");
  let child: ChildProcess;
  try {
    child = spawn(server, [], { env, cwd: dir, stdio: ["ignore", out, out] });
  } finally {
    closeSync(out);
  }
  const running = () => child.exitCode === null && child.signalCode === null;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (running()) {
      try {
        await ctl("stop");
        await waitUntil(() => !running(), `RabbitMQ node ${name} to exit`, STOP_TIMEOUT_MS);
      } catch {
        child.kill("SIGKILL");
        await exited;
      }
    }
    // epmd -kill refuses while nodes are registered; ours is gone by now.
    await run("epmd", ["-port", String(ports.epmd), "-kill"], { env }).catch(() => undefined);
    try {
      await waitUntil(() => processes().length === 0, `the processes of ${name} to end`, STOP_TIMEOUT_MS / 4);
    } catch {
      for (const pid of processes()) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Ended meanwhile.
        }
      }
    }
  };

  const ctlCommand = {
    path: rabbitmqctl,
    env: {
      HOME: dir,
      ERL_EPMD_ADDRESS: "127.0.0.1",
      ERL_EPMD_PORT: String(ports.epmd),
      RABBITMQ_CONF_ENV_FILE: join(dir, "rabbitmq-env.conf"),
    },
  };
  const node: RabbitNode = { name, dir, ports, ctl, ctlCommand, processes, stop };
  try {
    await waitUntil(
      async () => {
        if (!running()) throw new Error(`rabbitmq-server exited before it was up; see ${join(dir, "log")}`);
        try {
          await ctl("await_startup", "--timeout", "10");
          return true;
        } catch {
          return false;
        }
      },
      `RabbitMQ node ${name} to start`,
      START_TIMEOUT_MS,
      250,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return node;
}
