/**
 * deploy/kubernetes checked against the Kubernetes API schemas (the JSON
 * schemas bundled in the kubernetes-models package, checked with its
 * validators: types, required fields, enums, formats), and against itself:
 * every ConfigMap, Secret and volume a pod names exists, and every file
 * hangar.yaml and rabbitmq.conf name is mounted where they look for it.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { z } from "zod";
import { parseConfigText } from "../../src/config/index.js";
import {
  configMapValue,
  defaultManifestsDir,
  HANGAR_CONFIG_KEY,
  HANGAR_CONFIGMAP,
  type Manifest,
  RABBITMQ_CONF_KEY,
  RABBITMQ_CONFIGMAP,
  readManifestFile,
  renderManifests,
  SECRETS_EXAMPLE,
} from "../../src/deploy/index.js";
import { parseRabbitConf } from "../../src/deploy/rabbitmq-conf.js";

const DIR = defaultManifestsDir();
const manifests = renderManifests(DIR);
const secrets = readManifestFile(join(DIR, SECRETS_EXAMPLE));

interface Validatable {
  validate(): void;
}
type ModelModule = Record<string, new (data: unknown) => Validatable>;

/** kubernetes-models' module for an apiVersion: `v1`, `apps/v1`, `networking.k8s.io/v1`. */
async function model(manifest: Manifest): Promise<new (data: unknown) => Validatable> {
  const module = (await import(`kubernetes-models/${manifest.apiVersion}`)) as ModelModule;
  const found = module[manifest.kind];
  assert.ok(found, `kubernetes-models has no ${manifest.apiVersion} ${manifest.kind}`);
  return found;
}

const dnsName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);

/**
 * route.openshift.io/v1 Route, the fields used here, after OpenShift's API
 * reference; no npm package bundles OpenShift's schemas. Strict: unknown
 * fields are refused.
 */
const routeSchema = z.strictObject({
  apiVersion: z.literal("route.openshift.io/v1"),
  kind: z.literal("Route"),
  metadata: z.strictObject({ name: dnsName, labels: z.record(z.string(), z.string()).optional() }),
  spec: z.strictObject({
    host: dnsName.optional(),
    path: z.string().startsWith("/").optional(),
    to: z.strictObject({ kind: z.literal("Service"), name: dnsName, weight: z.number().int().optional() }),
    port: z.strictObject({ targetPort: z.union([z.string(), z.number().int()]) }).optional(),
    tls: z
      .strictObject({
        termination: z.enum(["edge", "passthrough", "reencrypt"]),
        insecureEdgeTerminationPolicy: z.enum(["Allow", "Disable", "Redirect", "None"]).optional(),
      })
      .optional(),
    wildcardPolicy: z.enum(["None", "Subdomain"]).optional(),
  }),
});

type Json = Record<string, unknown>;

function withoutSource(manifest: Manifest): Json {
  const { source: _source, ...object } = manifest;
  return object;
}

const podSpecs = () =>
  manifests
    .filter((m) => m.kind === "Deployment")
    .map((m) => ({ name: m.metadata.name, spec: ((m.spec as Json).template as Json).spec as Json }));

interface Container {
  name: string;
  image: string;
  args?: string[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: unknown;
}

/** Files a container sees under each mount: keys of the ConfigMap or Secret mounted there. */
function mountedFiles(spec: Json, container: Container): Map<string, string> {
  const volumes = spec.volumes as Volume[];
  const files = new Map<string, string>();
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.find((v) => v.name === mount.name);
    assert.ok(volume, `volume ${mount.name} of container ${container.name} exists`);
    const source = volume.configMap
      ? manifests.find((m) => m.kind === "ConfigMap" && m.metadata.name === volume.configMap?.name)
      : volume.secret
        ? secrets.find((m) => m.metadata.name === volume.secret?.secretName)
        : undefined;
    if (volume.configMap || volume.secret) assert.ok(source, `${mount.name}'s ConfigMap or Secret exists`);
    const data = (source?.data ?? source?.stringData ?? {}) as Json;
    for (const key of Object.keys(data))
      files.set(join(mount.mountPath, key), `${source?.kind} ${source?.metadata.name}`);
    if (volume.emptyDir !== undefined || volume.persistentVolumeClaim)
      files.set(mount.mountPath, "writable volume");
  }
  return files;
}

function container(deployment: string, name: string): { spec: Json; container: Container } {
  const pod = podSpecs().find((p) => p.name === deployment);
  assert.ok(pod, `Deployment ${deployment}`);
  const found = (pod.spec.containers as Container[]).find((c) => c.name === name);
  assert.ok(found, `container ${name} in ${deployment}`);
  return { spec: pod.spec, container: found };
}

/** `{file: PATH}` secrets under the given top-level config keys. */
function secretPaths(keys: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === "object" && value !== null) {
      const file = (value as Json).file;
      if (typeof file === "string" && Object.keys(value).length === 1) found.push(file);
      else Object.values(value).forEach(walk);
    }
  };
  const tree = parse(configMapValue(manifests, HANGAR_CONFIGMAP, HANGAR_CONFIG_KEY)) as Json;
  for (const key of keys) {
    const value = key.split(".").reduce<unknown>((node, part) => (node as Json | undefined)?.[part], tree);
    walk(value);
  }
  return found;
}

describe("deploy/kubernetes", () => {
  test("kustomization.yaml lists every manifest but the Secrets example", () => {
    const listed = new Set(manifests.map((m) => m.source?.split("/").pop()));
    const files = [
      "configmap-hangar.yaml",
      "configmap-rabbitmq.yaml",
      "rabbitmq-data.yaml",
      "webhook.yaml",
      "services.yaml",
      "routes.yaml",
      "worker.yaml",
    ];
    assert.deepEqual([...listed].sort(), files.sort());
    assert.ok(!listed.has(SECRETS_EXAMPLE));
  });

  test("every Kubernetes object passes its API schema", async () => {
    let checked = 0;
    for (const manifest of [...manifests, ...secrets]) {
      if (manifest.apiVersion === "route.openshift.io/v1") continue;
      const Model = await model(manifest);
      assert.doesNotThrow(
        () => new Model(withoutSource(manifest)).validate(),
        `${manifest.kind} ${manifest.metadata.name}`,
      );
      checked++;
    }
    assert.ok(checked >= 10, `checked ${checked} objects`);
  });

  test("the validator refuses what Kubernetes would refuse", async () => {
    const worker = manifests.find((m) => m.kind === "Deployment" && m.metadata.name === "hangar-worker");
    assert.ok(worker);
    const Model = await model(worker);
    const broken = structuredClone(withoutSource(worker)) as Json;
    (broken.spec as Json).replicas = "two";
    assert.throws(() => new Model(broken).validate(), /replicas must be integer/);
    const nameless = structuredClone(withoutSource(worker)) as Json;
    const pod = ((nameless.spec as Json).template as Json).spec as Json;
    delete (pod.containers as Json[])[0]?.name;
    assert.throws(() => new Model(nameless).validate(), /required property 'name'|required property name/);
  });

  test("Routes are well-formed and point at named ports of existing Services", () => {
    const routes = manifests.filter((m) => m.kind === "Route");
    assert.equal(routes.length, 2);
    for (const route of routes) {
      const parsed = routeSchema.parse(withoutSource(route));
      const service = manifests.find((m) => m.kind === "Service" && m.metadata.name === parsed.spec.to.name);
      assert.ok(service, `Service ${parsed.spec.to.name}`);
      const ports = ((service.spec as Json).ports as { name: string }[]).map((p) => p.name);
      assert.ok(
        ports.includes(String(parsed.spec.port?.targetPort)),
        `${route.metadata.name} targets a port of ${service.metadata.name}`,
      );
    }
    assert.throws(() => routeSchema.parse({ ...withoutSource(routes[0] as Manifest), spce: {} }));
  });

  test("Services select pods that have the named target ports", () => {
    for (const service of manifests.filter((m) => m.kind === "Service")) {
      const spec = service.spec as { selector: Json; ports: { targetPort: string }[] };
      const deployment = manifests.find(
        (m) =>
          m.kind === "Deployment" &&
          JSON.stringify(((m.spec as Json).selector as Json).matchLabels) === JSON.stringify(spec.selector),
      );
      assert.ok(deployment, `a Deployment behind Service ${service.metadata.name}`);
      const pod = ((deployment.spec as Json).template as Json).spec as {
        containers: { ports?: { name: string }[] }[];
      };
      const named = pod.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
      for (const port of spec.ports) assert.ok(named.includes(port.targetPort), `port ${port.targetPort}`);
    }
  });

  test("hangar.yaml in the ConfigMap is a valid hangar configuration", () => {
    const text = configMapValue(manifests, HANGAR_CONFIGMAP, HANGAR_CONFIG_KEY);
    const loaded = parseConfigText(text, "configmap", "/etc/hangar");
    assert.equal(loaded.config.queue.driver, "amqp");
    assert.match(loaded.config.queue.amqp?.url ?? "", /^amqps:\/\//);
  });

  test("the webhook container has the files its config names, and no GitHub token", () => {
    const { spec, container: webhook } = container("hangar-webhook", "webhook");
    const files = mountedFiles(spec, webhook);
    for (const path of secretPaths(["webhook", "queue.amqp"]))
      assert.ok(files.has(path), `${path} is mounted`);
    // Phase one signs nothing and posts nothing: no GitHub token, no signing key.
    for (const path of secretPaths(["forge", "queue.signingKey"]))
      assert.ok(!files.has(path), `${path} is not mounted in the webhook`);
    assert.deepEqual(webhook.args, ["hangar", "webhook", "--config", join("/etc/hangar", HANGAR_CONFIG_KEY)]);
    assert.ok(files.has("/etc/hangar/hangar.yaml"));
  });

  test("the worker container has every file its config names, and /dev/kvm", () => {
    const { spec, container: worker } = container("hangar-worker", "worker");
    const files = mountedFiles(spec, worker);
    const paths = secretPaths(["queue", "forge", "store", "worker"]);
    assert.ok(paths.length >= 5);
    for (const path of paths) assert.ok(files.has(path), `${path} is mounted`);
    const config = parse(configMapValue(manifests, HANGAR_CONFIGMAP, HANGAR_CONFIG_KEY)) as {
      worker: { workDir: string };
    };
    assert.ok(files.has(config.worker.workDir), "the work directory is a writable volume");
    const limits = (worker as unknown as { resources: { limits: Json } }).resources.limits;
    assert.equal(limits["devices.kubevirt.io/kvm"], "1");
  });

  test("RabbitMQ's container has every file rabbitmq.conf names", () => {
    const { spec, container: rabbit } = container("hangar-webhook", "rabbitmq");
    const files = mountedFiles(spec, rabbit);
    const conf = parseRabbitConf(configMapValue(manifests, RABBITMQ_CONFIGMAP, RABBITMQ_CONF_KEY));
    const paths = [...conf.values()].filter((value) => value.startsWith("/"));
    assert.ok(paths.length >= 4);
    for (const path of paths) assert.ok(files.has(path), `${path} is mounted`);
    const env = (rabbit as unknown as { env: { name: string; value: string }[] }).env;
    const conffile = env.find((e) => e.name === "RABBITMQ_CONFIG_FILE")?.value ?? "";
    assert.ok(files.has(conffile), "RABBITMQ_CONFIG_FILE is the ConfigMap's file");
    assert.ok(files.has(join(dirname(conffile), "enabled_plugins")));
  });

  test("the Secrets' keys are the file names of `hangar secrets generate`", async () => {
    const { SECRET_FILES } = await import("../../src/cli/commands/secrets.js");
    const generated = new Set<string>(Object.values(SECRET_FILES));
    for (const secret of secrets.filter((s) => s.metadata.name !== "hangar-s3")) {
      for (const key of Object.keys(secret.stringData as Json))
        assert.ok(generated.has(key), `${secret.metadata.name}: ${key}`);
    }
  });

  test("no pod gets a service account token; the worker may make job sandboxes", () => {
    for (const { name, spec } of podSpecs()) {
      assert.equal(spec.automountServiceAccountToken, false, `${name} mounts no service account token`);
    }
    const { container: worker } = container("hangar-worker", "worker");
    const security = (worker as unknown as { securityContext?: Json }).securityContext ?? {};
    assert.deepEqual(security.seccompProfile, { type: "Unconfined" });
    assert.equal(security.procMount, "Unmasked");
    const config = parse(configMapValue(manifests, HANGAR_CONFIGMAP, HANGAR_CONFIG_KEY)) as {
      worker: { sandbox?: { mode?: string } };
    };
    assert.notEqual(config.worker.sandbox?.mode, "none", "jobs run sandboxed");
  });

  test("both pods run the image kustomization.yaml names", () => {
    const kustomization = parse(readFileSync(join(DIR, "kustomization.yaml"), "utf8")) as {
      images: { name: string }[];
    };
    const image = kustomization.images[0]?.name;
    for (const { spec } of podSpecs()) {
      for (const c of spec.containers as Container[]) {
        if (c.name !== "rabbitmq") assert.equal(c.image.split(":")[0], image);
      }
    }
  });
});
