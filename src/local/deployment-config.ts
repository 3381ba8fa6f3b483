/**
 * hangar.yaml for `hangar local`, made from the deployment's ConfigMap
 * (deploy/kubernetes/configmap-hangar.yaml). Only what must differ on one
 * machine is replaced; everything else is taken as production has it, so a
 * change to the ConfigMap is exercised by `hangar local` before it is deployed:
 *
 * - LOCAL_KEYS: listening ports, the queue's and GitHub's endpoints, the store
 *   (no S3 server locally), the worker's name, and reconciliation (off: a
 *   local run acts on the pull request it was given, on no other);
 * - secrets `{file: /run/secrets/hangar/<secret>/<key>}` become generated fakes
 *   in the workspace, at `secrets/<secret>/<key>`;
 * - state directories under /var/ move into the workspace, at `state/var/...`;
 * - projects and trust.users get the demo's or self-test's entries added;
 *   against real GitHub, production's other projects are left out.
 */
import { dirname } from "node:path";
import { parseDocument } from "yaml";
import { ConfigError } from "../config/index.js";

/** A YAML mapping as parsed. */
export type ConfigTree = { [key: string]: unknown };

/** Dotted key paths `hangar local` sets itself (a path covers everything below it). */
export const LOCAL_KEYS = [
  "webhook.listen",
  "dashboard.listen",
  "queue.driver",
  "queue.sqlite",
  "queue.amqp.url",
  "forge.github.api",
  "forge.github.clone",
  "store",
  "worker.name",
  "reconcile.atStart",
  "reconcile.intervalMinutes",
] as const;

/** Keys whose lists or maps `hangar local` extends (production's entries stay). */
export const EXTENDED_KEYS = ["projects", "trust.users"] as const;

export const PRODUCTION_SECRETS_DIR = "/run/secrets/hangar/";
export const LOCAL_SECRETS_DIR = "secrets/";
export const PRODUCTION_STATE_PREFIX = "/var/";
export const LOCAL_STATE_DIR = "state/";

export const LOCAL_WORKER_NAME = "local-worker";

export interface LocalEndpoints {
  /** Where GitHub is: the emulator, or production's own settings for a real PR. */
  readonly forge: { readonly api: string; readonly clone: string } | "production";
  /** The embedded SQLite queue, or the private RabbitMQ node. */
  readonly queue: { readonly driver: "sqlite" } | { readonly driver: "amqp"; readonly url: string };
  /** Test map entries added to production's (same repository: replaced). */
  readonly projects: ConfigTree;
  readonly trustedUsers: readonly string[];
}

function isTree(value: unknown): value is ConfigTree {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function parseProductionConfig(text: string): ConfigTree {
  const source = "ConfigMap hangar-config, hangar.yaml";
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new ConfigError(
      source,
      doc.errors.map((e) => e.message.split("\n")[0] ?? ""),
    );
  const value: unknown = doc.toJS();
  if (!isTree(value)) throw new ConfigError(source, ["expected a mapping at the top level"]);
  return value;
}

/** Production secret file and state paths, moved into the workspace (relative to its hangar.yaml). */
export function localPath(value: string): string {
  if (value.startsWith(PRODUCTION_SECRETS_DIR))
    return LOCAL_SECRETS_DIR + value.slice(PRODUCTION_SECRETS_DIR.length);
  if (value.startsWith(PRODUCTION_STATE_PREFIX)) return LOCAL_STATE_DIR + value.slice(1);
  return value;
}

function movePaths(value: unknown, inCommand: boolean): unknown {
  if (typeof value === "string") return inCommand ? value : localPath(value);
  if (Array.isArray(value)) return value.map((item) => movePaths(item, inCommand));
  if (!isTree(value)) return value;
  const moved: ConfigTree = {};
  // A job's command runs where the job runs; its paths are the job's business.
  for (const [key, item] of Object.entries(value))
    moved[key] = movePaths(item, inCommand || key === "command");
  return moved;
}

function child(tree: ConfigTree, key: string): ConfigTree {
  const value = tree[key];
  if (isTree(value)) return value;
  const created: ConfigTree = {};
  tree[key] = created;
  return created;
}

/** Production's amqp URL with the private node's scheme, host and port (vhost and query stay). */
function localAmqpUrl(production: unknown, local: string): string {
  if (typeof production !== "string") return local;
  try {
    const url = new URL(production);
    const target = new URL(local);
    url.protocol = target.protocol;
    url.host = target.host;
    url.username = "";
    url.password = "";
    return url.toString().replace(/\/$/, "");
  } catch {
    return local;
  }
}

export function localConfigFrom(production: ConfigTree, endpoints: LocalEndpoints): ConfigTree {
  const config = movePaths(structuredClone(production), false) as ConfigTree;
  child(config, "webhook").listen = "127.0.0.1:0";
  child(config, "dashboard").listen = "127.0.0.1:0";

  const queue = child(config, "queue");
  if (endpoints.queue.driver === "amqp") {
    queue.driver = "amqp";
    delete queue.sqlite;
    const amqp = child(queue, "amqp");
    amqp.url = localAmqpUrl(amqp.url, endpoints.queue.url);
  } else {
    queue.driver = "sqlite";
    queue.sqlite = { path: "queue.sqlite" };
    delete queue.amqp;
  }

  if (endpoints.forge !== "production") {
    const github = child(child(config, "forge"), "github");
    github.api = endpoints.forge.api;
    github.clone = endpoints.forge.clone;
  }

  config.store = { driver: "fs", fs: { dir: "store", listen: "127.0.0.1:0" } };
  child(config, "worker").name = LOCAL_WORKER_NAME;
  const reconcile = child(config, "reconcile");
  reconcile.atStart = false;
  reconcile.intervalMinutes = 0;
  // On real GitHub, production's repositories are production's business (schedules, PRs).
  const kept = endpoints.forge === "production" || !isTree(config.projects) ? {} : config.projects;
  config.projects = { ...kept, ...endpoints.projects };
  const trust = child(config, "trust");
  const users = Array.isArray(trust.users) ? trust.users : [];
  trust.users = [...new Set([...users, ...endpoints.trustedUsers])];
  return config;
}

/** Every `{file: secrets/...}` the local config names, as paths relative to the workspace. */
export function secretFiles(config: unknown): string[] {
  const found = new Set<string>();
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (isTree(value)) {
      const file = value.file;
      if (Object.keys(value).length === 1 && typeof file === "string" && file.startsWith(LOCAL_SECRETS_DIR)) {
        found.add(file);
      } else Object.values(value).forEach(walk);
    }
  };
  walk(config);
  return [...found].sort();
}

/**
 * Directories that hold the moved state paths: production mounts a volume
 * there (/var/lib/hangar, /var/cache/hangar), so they exist before hangar starts.
 */
export function stateDirs(config: unknown): string[] {
  const found = new Set<string>();
  const walk = (value: unknown) => {
    if (typeof value === "string" && value.startsWith(LOCAL_STATE_DIR)) found.add(dirname(value));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (isTree(value)) Object.values(value).forEach(walk);
  };
  walk(config);
  return [...found].sort();
}
