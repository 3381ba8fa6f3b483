/**
 * The Containerfile cannot be built here (no registry), so its static
 * correctness is checked: it parses, every file it copies exists, its stages
 * line up, it installs the package npm would publish, and it starts what the
 * manifests expect.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { renderManifests } from "../../src/deploy/index.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const INSTRUCTIONS = new Set([
  "FROM",
  "RUN",
  "COPY",
  "ADD",
  "ENV",
  "ARG",
  "WORKDIR",
  "USER",
  "ENTRYPOINT",
  "CMD",
  "LABEL",
  "EXPOSE",
  "VOLUME",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "SHELL",
]);
/** Debian releases and the Node.js major version they ship. */
const DEBIAN_NODE: Record<string, number> = { bookworm: 18, trixie: 20, forky: 22 };

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

/** Instructions with continuation lines joined; comments and blank lines dropped. */
export function parseContainerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trimEnd();
    if (pending === undefined && (line.trim() === "" || line.trimStart().startsWith("#"))) continue;
    if (pending !== undefined && line.trimStart().startsWith("#")) continue;
    const continued = line.endsWith("\\");
    const part = continued ? line.slice(0, -1) : line;
    pending = pending
      ? { text: `${pending.text} ${part.trim()}`, line: pending.line }
      : { text: part, line: index + 1 };
    if (continued) continue;
    const match = /^(\w+)\s+(.*)$/.exec(pending.text.trim());
    if (!match?.[1] || match[2] === undefined)
      throw new Error(`line ${pending.line}: not an instruction: ${pending.text}`);
    instructions.push({ keyword: match[1].toUpperCase(), args: match[2], line: pending.line });
    pending = undefined;
  }
  if (pending) throw new Error(`line ${pending.line}: continued past the end of the file`);
  return instructions;
}

const text = readFileSync(join(ROOT, "Containerfile"), "utf8");
const instructions = parseContainerfile(text);
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  bin: Record<string, string>;
  files: string[];
  engines: { node: string };
  scripts: Record<string, string>;
};
const of = (keyword: string) => instructions.filter((i) => i.keyword === keyword);

describe("Containerfile", () => {
  test("parses into known instructions", () => {
    assert.ok(instructions.length > 8);
    for (const instruction of instructions)
      assert.ok(INSTRUCTIONS.has(instruction.keyword), `line ${instruction.line}: ${instruction.keyword}`);
    assert.throws(() => parseContainerfile("RUN echo \\"), /continued past the end/);
  });

  test("builds on Debian with Debian's own Node.js, new enough for the package", () => {
    const minimum = Number(/\d+/.exec(pkg.engines.node)?.[0]);
    for (const from of of("FROM")) {
      const image = from.args.split(/\s+/)[0] ?? "";
      assert.doesNotMatch(image, /(^|\/)node:/, "no node base image");
      const release = /debian:(\w+)/.exec(image)?.[1];
      assert.ok(release, `line ${from.line}: a Debian base`);
      assert.ok(
        (DEBIAN_NODE[release] ?? 0) >= minimum,
        `Debian ${release} ships Node.js ${DEBIAN_NODE[release]}, the package needs ${minimum}`,
      );
    }
    const installs = of("RUN").filter((run) => /apt-get install/.test(run.args));
    assert.ok(
      installs.every((run) => /\bnodejs\b/.test(run.args)),
      "every stage installs Debian's nodejs",
    );
  });

  test("copies only files that exist, and everything the build needs", () => {
    const copied = new Set<string>();
    for (const copy of of("COPY")) {
      const words = copy.args.split(/\s+/).filter((word) => !word.startsWith("--"));
      if (copy.args.includes("--from=")) continue;
      for (const source of words.slice(0, -1)) {
        assert.ok(existsSync(join(ROOT, source)), `line ${copy.line}: ${source} exists`);
        copied.add(source.replace(/\/$/, ""));
      }
    }
    for (const needed of ["package.json", "package-lock.json", "tsconfig.json", "src"])
      assert.ok(copied.has(needed), needed);
    // What `npm pack` puts into the package, apart from what the build makes (dist/).
    for (const file of pkg.files.filter((f) => !f.startsWith("dist")))
      assert.ok(copied.has(file), `${file} (package.json files)`);
  });

  test("stages line up: what is copied from a stage was installed there", () => {
    const stages = of("FROM")
      .map((from) => /\bAS\s+(\S+)/i.exec(from.args)?.[1])
      .filter(Boolean);
    for (const copy of of("COPY").filter((c) => c.args.includes("--from="))) {
      const [, stage, source] = /--from=(\S+)\s+(\S+)/.exec(copy.args) ?? [];
      assert.ok(stages.includes(stage), `stage ${stage}`);
      assert.ok(
        of("RUN").some((run) => run.args.includes(`--prefix ${source}`)),
        `${source} is where npm installed the package`,
      );
    }
  });

  test("installs the package npm packs, and puts its bin on PATH", () => {
    const build = of("RUN").find((run) => run.args.includes("npm pack"));
    assert.ok(build, "npm pack");
    assert.match(build.args, /npm ci\b/);
    assert.ok(pkg.scripts.prepare?.includes("tsc"), "npm ci compiles through the prepare script");
    assert.ok(build.args.includes(`/tmp/${pkg.name}-*.tgz`), "the packed tarball's name");
    const prefix = /--prefix (\S+)/.exec(build.args)?.[1];
    assert.ok(of("ENV").some((env) => env.args.includes(`PATH=${prefix}/bin:`)));
  });

  test("starts what the manifests run", () => {
    const cmd = JSON.parse(of("CMD").at(-1)?.args ?? "[]") as string[];
    assert.ok(cmd[0] && pkg.bin[cmd[0]], `CMD runs the package's bin ${Object.keys(pkg.bin).join()}`);
    const worker = renderManifests().find(
      (m) => m.kind === "Deployment" && m.metadata.name === "hangar-worker",
    );
    assert.ok(worker, "the worker Deployment");
    const spec = worker.spec as { template: { spec: { containers: { args: string[] }[] } } };
    const args = spec.template.spec.containers[0]?.args ?? [];
    assert.deepEqual(cmd, args, "the image's default command is the worker's");
  });
});
