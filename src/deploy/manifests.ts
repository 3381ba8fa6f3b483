/**
 * Reading deploy/kubernetes: the resources kustomization.yaml lists, in order,
 * and the ConfigMaps that hold hangar.yaml and RabbitMQ's files. `hangar local`
 * and the tests read the deployment through here, so both see what
 * `kubectl apply -k` would apply.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments } from "yaml";

/** A Kubernetes object as written in a manifest. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
  /** Which file it came from, for messages. */
  readonly source?: string;
}

export const HANGAR_CONFIGMAP = "hangar-config";
export const HANGAR_CONFIG_KEY = "hangar.yaml";
export const RABBITMQ_CONFIGMAP = "hangar-rabbitmq";
export const RABBITMQ_CONF_KEY = "rabbitmq.conf";
export const RABBITMQ_PLUGINS_KEY = "enabled_plugins";
export const RABBITMQ_DEFINITIONS_KEY = "definitions.json";
/** Not in kustomization.yaml (applying it would blank the real Secrets); shows their layout. */
export const SECRETS_EXAMPLE = "secrets.example.yaml";

export class ManifestError extends Error {
  override readonly name = "ManifestError";
}

/** deploy/kubernetes of this installation: beside dist/ in a checkout and in the npm package. */
export function defaultManifestsDir(): string {
  return fileURLToPath(new URL("../../../deploy/kubernetes/", import.meta.url));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every YAML document of one file, checked to be a Kubernetes object. */
export function readManifestFile(path: string): Manifest[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ManifestError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const manifests: Manifest[] = [];
  for (const doc of parseAllDocuments(text, { uniqueKeys: true })) {
    if (doc.errors.length > 0) throw new ManifestError(`${path}: ${doc.errors[0]?.message ?? "bad YAML"}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (
      !isObject(value) ||
      typeof value.apiVersion !== "string" ||
      typeof value.kind !== "string" ||
      !isObject(value.metadata) ||
      typeof value.metadata.name !== "string"
    ) {
      throw new ManifestError(`${path}: a document without apiVersion, kind and metadata.name`);
    }
    manifests.push({ ...(value as unknown as Manifest), source: path });
  }
  return manifests;
}

/** The resources kustomization.yaml lists, as `kubectl apply -k DIR` applies them. */
export function renderManifests(dir: string = defaultManifestsDir()): Manifest[] {
  const kustomization = join(dir, "kustomization.yaml");
  if (!existsSync(kustomization)) throw new ManifestError(`no kustomization.yaml in ${resolve(dir)}`);
  const spec: unknown = parse(readFileSync(kustomization, "utf8"));
  const resources = isObject(spec) ? spec.resources : undefined;
  if (!Array.isArray(resources) || !resources.every((entry) => typeof entry === "string")) {
    throw new ManifestError(`${kustomization}: resources must be a list of file names`);
  }
  return resources.flatMap((file: string) => readManifestFile(join(dir, file)));
}

export function findManifest(manifests: readonly Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (found === undefined) throw new ManifestError(`no ${kind} ${name} in the manifests`);
  return found;
}

/** One key of a ConfigMap's data. */
export function configMapValue(manifests: readonly Manifest[], name: string, key: string): string {
  const data = findManifest(manifests, "ConfigMap", name).data;
  const value = isObject(data) ? data[key] : undefined;
  if (typeof value !== "string") throw new ManifestError(`ConfigMap ${name} has no data key ${key}`);
  return value;
}

/** What a deployment's configuration consists of, as the ConfigMaps hold it. */
export interface DeploymentFiles {
  readonly dir: string;
  readonly hangarYaml: string;
  readonly rabbitmqConf: string;
  readonly enabledPlugins: string;
  readonly definitions: string;
}

export function readDeploymentFiles(dir: string = defaultManifestsDir()): DeploymentFiles {
  const manifests = renderManifests(dir);
  return {
    dir,
    hangarYaml: configMapValue(manifests, HANGAR_CONFIGMAP, HANGAR_CONFIG_KEY),
    rabbitmqConf: configMapValue(manifests, RABBITMQ_CONFIGMAP, RABBITMQ_CONF_KEY),
    enabledPlugins: configMapValue(manifests, RABBITMQ_CONFIGMAP, RABBITMQ_PLUGINS_KEY),
    definitions: configMapValue(manifests, RABBITMQ_CONFIGMAP, RABBITMQ_DEFINITIONS_KEY),
  };
}
