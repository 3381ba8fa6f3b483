/**
 * deploy/systemd: the worker unit passes `systemd-analyze verify`, and its
 * `podman run` gives the container what the Kubernetes worker gets: /dev/kvm,
 * hangar.yaml and the Secrets at the same paths, the same image and command.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { renderManifests } from "../../src/deploy/index.js";

const UNIT = fileURLToPath(new URL("../../../deploy/systemd/hangar-worker@.service", import.meta.url));
const text = readFileSync(UNIT, "utf8");

/** `Key=value` lines of one section, continuation lines joined. */
function section(name: string): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  let current = "";
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (/^\[.+\]$/.test(line)) {
      current = line.slice(1, -1);
      continue;
    }
    if (current !== name || line === "" || line.startsWith("#")) continue;
    pending += line.endsWith("\\") ? `${line.slice(0, -1)} ` : line;
    if (line.endsWith("\\")) continue;
    const at = pending.indexOf("=");
    const key = pending.slice(0, at);
    entries.set(key, [...(entries.get(key) ?? []), pending.slice(at + 1).trim()]);
    pending = "";
  }
  return entries;
}

const service = section("Service");
const execStart = (service.get("ExecStart")?.[0] ?? "").split(/\s+/);
const option = (name: string) =>
  execStart.flatMap((word, i) =>
    word === name
      ? [execStart[i + 1] ?? ""]
      : word.startsWith(`${name}=`)
        ? [word.slice(name.length + 1)]
        : [],
  );

type Json = Record<string, unknown>;
const workerPod = () => {
  const worker = renderManifests().find(
    (m) => m.kind === "Deployment" && m.metadata.name === "hangar-worker",
  );
  assert.ok(worker, "the worker Deployment");
  return ((worker.spec as Json).template as Json).spec as {
    containers: { image: string; args: string[]; volumeMounts: { name: string; mountPath: string }[] }[];
    volumes: { name: string; secret?: { secretName: string }; configMap?: { name: string } }[];
  };
};

describe("deploy/systemd", () => {
  test("systemd-analyze verify accepts the unit", {
    // With CI=true a missing tool fails the test instead of skipping it.
    skip: existsSync("/usr/bin/systemd-analyze") || process.env.CI === "true" ? false : "no systemd-analyze",
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "hangar-unit-"));
    try {
      // An instance of the template, as `systemctl enable hangar-worker@1` makes.
      const instance = join(dir, "hangar-worker@1.service");
      copyFileSync(UNIT, instance);
      const { stderr } = await promisify(execFile)("systemd-analyze", ["verify", instance]);
      assert.doesNotMatch(stderr, /Unknown|bad|not executable/i, stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("podman runs the worker with /dev/kvm and the image and command of the Kubernetes worker", () => {
    assert.equal(execStart[0], "/usr/bin/podman");
    assert.equal(execStart[1], "run");
    assert.deepEqual(option("--device"), ["/dev/kvm"]);
    const pod = workerPod();
    const container = pod.containers[0];
    assert.ok(container);
    // The unit's own variable, expanded by systemd.
    const imageAt = execStart.indexOf(`$\{HANGAR_IMAGE}`);
    assert.ok(imageAt > 0);
    assert.deepEqual(execStart.slice(imageAt + 1), container.args);
    const image = service
      .get("Environment")
      ?.find((e) => e.startsWith("HANGAR_IMAGE="))
      ?.slice("HANGAR_IMAGE=".length);
    assert.equal(image, container.image);
  });

  test("the container sees hangar.yaml and every Secret where the Kubernetes worker does", () => {
    const pod = workerPod();
    const container = pod.containers[0];
    assert.ok(container);
    const targets = new Map(
      option("--volume").map((spec) => {
        const [source, target] = spec.split(":");
        return [target ?? "", source ?? ""];
      }),
    );
    for (const mount of container.volumeMounts) {
      const volume = pod.volumes.find((v) => v.name === mount.name);
      if (volume?.configMap) assert.ok(targets.has(`${mount.mountPath}/hangar.yaml`), "hangar.yaml");
      else if (volume?.secret) {
        assert.equal(
          targets.get(mount.mountPath),
          `/etc/hangar/secrets/${volume.secret.secretName}`,
          mount.mountPath,
        );
      } else {
        const tmpfs = option("--tmpfs").map((spec) => spec.split(":")[0]);
        assert.ok(
          targets.has(mount.mountPath) || tmpfs.includes(mount.mountPath),
          `${mount.mountPath} is a volume`,
        );
      }
    }
  });

  test("a stop gives a running job as long as Kubernetes does", () => {
    const stopTime = Number(/--time (\d+)/.exec(service.get("ExecStop")?.[0] ?? "")?.[1]);
    const timeout = Number(service.get("TimeoutStopSec")?.[0]);
    assert.ok(
      stopTime >= 300 && timeout > stopTime,
      `podman stop --time ${stopTime}, TimeoutStopSec ${timeout}`,
    );
  });
});
