/**
 * .github/workflows: each file passes a workflow linter from npm
 * (@action-validator/cli, GitHub's workflow schema), and the commands its
 * steps run are the ones the documentation gives.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const WORKFLOWS = join(ROOT, ".github/workflows");
const VALIDATOR = join(
  createRequire(import.meta.url).resolve("@action-validator/cli/package.json"),
  "..",
  "cli.mjs",
);

function lint(file: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VALIDATOR, file], (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr });
    });
  });
}

/** Commands of ```sh blocks and `inline` code in the README and docs/deployment.md. */
function documentedCommands(): string {
  return ["README.md", "docs/deployment.md"].map((file) => readFileSync(join(ROOT, file), "utf8")).join("\n");
}

interface Step {
  run?: string;
  uses?: string;
}

describe(".github/workflows", () => {
  const files = readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name));

  test("every workflow passes the linter", async () => {
    assert.ok(files.length > 0);
    for (const file of files) {
      const result = await lint(join(WORKFLOWS, file));
      assert.equal(result.code, 0, `${file}:\n${result.output}`);
    }
  });

  test("the linter refuses a broken workflow", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hangar-workflow-"));
    try {
      const broken = readFileSync(join(WORKFLOWS, "ci.yml"), "utf8").replace("runs-on:", "runs_on:");
      writeFileSync(join(dir, "ci.yml"), broken);
      const result = await lint(join(dir, "ci.yml"));
      assert.notEqual(result.code, 0);
      assert.match(result.output, /runs_on/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the steps run the documented commands, and the self-test against this PR", () => {
    const workflow = parse(readFileSync(join(WORKFLOWS, "ci.yml"), "utf8")) as {
      on: Record<string, unknown>;
      permissions: Record<string, string>;
      jobs: Record<string, { steps: Step[] }>;
    };
    assert.ok("pull_request" in workflow.on);
    assert.equal(workflow.permissions.statuses, "write");
    const docs = documentedCommands();
    const commands = Object.values(workflow.jobs)
      .flatMap((job) => job.steps)
      .flatMap((step) => (step.run ?? "").split("\n"))
      .map((line) => line.trim())
      .filter((line) => /^(npm|npx) /.test(line));
    assert.ok(commands.includes("npm install") && commands.includes("npm test"), commands.join("\n"));
    for (const command of commands) {
      const shape = command
        .replace(/"\$\w+"/g, "")
        .replace(/\s+/g, " ")
        .trim();
      const words = shape.split(" ").filter((word) => word !== "");
      assert.ok(
        words.every((word) => docs.includes(word)),
        `"${command}" is a documented command`,
      );
    }
    const selftest = commands.find((c) => c.includes("--github-token"));
    assert.ok(selftest, "a step runs the self-test against the PR");
    assert.match(
      selftest,
      /hangar local --selftest --rabbitmq --github-token .* --repo "\$GITHUB_REPOSITORY" --pr "\$PR_NUMBER"/,
    );
  });
});
