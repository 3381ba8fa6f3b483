/**
 * The firing range: a real deployment (`hangar serve`, the GitHub emulator,
 * the chosen executor, the sandbox on with small caps) holding canary
 * secrets, and the drivers that take each attack through the real pipeline:
 * a stranger's PR, a maintainer's `/hangar approve`, the job, its log.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import type { ConfigInput } from "../../src/config/index.js";
import { loadConfigFile } from "../../src/config/index.js";
import type { FileMap, PostedStatus } from "../../src/emulator/index.js";
import { openConfiguredQueue } from "../../src/queue/from-config.js";
import { createLogger } from "../../src/util/logger.js";
import { type Deployment, isFinal, startDeployment, waitFor, waitForStatuses } from "../e2e/harness.js";
import { ensureTestImage, PODMAN_RUN_ARGS, TEST_IMAGE } from "../fixtures/container-image.js";
import type { Attack, JobAttack, PipelineAttack, Target } from "./attacks.js";

export type ExecutorName = "process" | "container";

export const TARGET_REPO = "acme/target";
export const TRUSTED_REPO = "acme/victim";
const ATTACK_CONTEXT = "attack";
const TRUSTED_CONTEXT = "victim";
const STRANGER = "mallory";
const MAINTAINER = "alice";
const SECRET_NAME = "api-token";
const DISK_MIB = 64;
const JOB_TIMEOUT_MS = Number(process.env.REDTEAM_JOB_TIMEOUT_MS ?? 180_000);

export interface Finding {
  readonly id: string;
  readonly title: string;
  readonly executor: ExecutorName;
  /** "contained", or what leaked / why the attack could not be judged. */
  readonly outcome: string;
}

export interface Range {
  readonly executor: ExecutorName;
  readonly target: Target;
  fire(attack: Attack): Promise<Finding>;
  /** A trusted PR after all attacks: the worker is up, runs it, and masks its secret. */
  control(): Promise<Finding>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 0;
}

const portOf = (url: string) => Number(new URL(url).port);

/** The forms of a secret an attacker might print to get it past a masker. */
export function encodings(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]);
  for (const pad of [0, 1, 2]) {
    const b64 = Buffer.concat([Buffer.alloc(pad, 120), Buffer.from(secret)]).toString("base64");
    const start = Math.ceil((pad * 8) / 6);
    const end = Math.floor(((pad + Buffer.byteLength(secret)) * 8) / 6);
    forms.add(b64.slice(start, end));
  }
  const hex = [...Buffer.from(secret)].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");
  forms.add(hex);
  return [...forms].filter((form) => form.length >= 8);
}

interface JobResult {
  readonly statuses: PostedStatus[];
  readonly log: string;
  readonly attachments: string;
}

async function readResult(statuses: PostedStatus[]): Promise<JobResult> {
  const url = statuses.at(-1)?.target_url;
  if (!url) return { statuses, log: "", attachments: "" };
  const log = await (await fetch(new URL("log", url))).text();
  const status = (await (await fetch(new URL("status.json", url))).json()) as { attachments?: string[] };
  const bodies = await Promise.all(
    (status.attachments ?? []).map(async (name) => (await fetch(new URL(`attachments/${name}`, url))).text()),
  );
  return { statuses, log, attachments: bodies.join("\n") };
}

function commentEvent(repo: string, pull: number, body: string) {
  return {
    action: "created",
    issue: {
      number: pull,
      pull_request: { url: `https://api.example/repos/${repo}/pulls/${pull}` },
    },
    comment: {
      id: Number.parseInt(randomBytes(3).toString("hex"), 16),
      body,
      user: { login: MAINTAINER },
      created_at: new Date().toISOString(),
    },
    repository: { full_name: repo },
    sender: { login: MAINTAINER },
  };
}

const has = (description: string) => (statuses: PostedStatus[]) =>
  statuses.some((status) => status.description === description);

export async function openRange(executor: ExecutorName): Promise<Range> {
  if (executor === "container") await ensureTestImage();
  const canaryEnv = `canary-env-${randomBytes(12).toString("hex")}`;
  const apiToken = `canary-api-${randomBytes(12).toString("hex")}`;
  process.env.HANGAR_REDTEAM_CANARY = canaryEnv;
  const dashboardPort = await freePort();
  const job = { secrets: [SECRET_NAME], timeout: 3 };
  const deployment: Deployment = await startDeployment({
    projects: {
      [TARGET_REPO]: { branches: { main: [{ name: ATTACK_CONTEXT, ...job }] } },
      [TRUSTED_REPO]: { branches: { main: [{ name: TRUSTED_CONTEXT, ...job }] } },
    },
    trust: { users: [MAINTAINER] },
    dashboard: { listen: `127.0.0.1:${dashboardPort}` },
    worker: { name: "redteam-worker" },
  });
  delete process.env.HANGAR_REDTEAM_CANARY;
  // The worker holds a {file:} secret: restart with it (secrets are read at start).
  await deployment.kill();
  writeFileSync(join(deployment.dir, "api-token"), `${apiToken}\n`, { mode: 0o600 });
  const config = parse(readFileSync(deployment.configFile, "utf8")) as ConfigInput;
  const worker: ConfigInput["worker"] = {
    ...config.worker,
    concurrency: 4,
    retries: 0,
    secrets: { [SECRET_NAME]: { file: "api-token" } },
    sandbox: { diskMiB: DISK_MIB, maxProcesses: 256, memoryMiB: 1024 },
    ...(executor === "container"
      ? { executor: "container", container: { runArgs: PODMAN_RUN_ARGS, defaultImage: TEST_IMAGE } }
      : {}),
  };
  writeFileSync(deployment.configFile, stringify({ ...config, worker }));
  process.env.HANGAR_REDTEAM_CANARY = canaryEnv;
  try {
    await deployment.restart();
  } finally {
    delete process.env.HANGAR_REDTEAM_CANARY;
  }
  const emulator = deployment.emulator;
  const benign = { ".hangar/run": { content: "#!/bin/sh\necho benign\n", executable: true } };
  await emulator.createRepo({ repo: TARGET_REPO, files: benign });
  await emulator.createRepo({ repo: TRUSTED_REPO, files: benign });

  const target: Target = {
    dir: deployment.dir,
    webhookPort: portOf(deployment.webhookUrl),
    storePort: portOf(deployment.storeUrl),
    dashboardPort,
    githubPort: portOf(emulator.url),
    marker: `rt${randomBytes(4).toString("hex")}`,
    hostTmpCanary: join(tmpdir(), `hangar-redteam-canary-${randomBytes(4).toString("hex")}`),
    diskMiB: DISK_MIB,
  };
  writeFileSync(target.hostTmpCanary, "canary\n", { mode: 0o644 });
  const secrets = [
    canaryEnv,
    apiToken,
    deployment.secret,
    readFileSync(join(deployment.dir, "github-token"), "utf8").trim(),
  ];
  const forms = secrets.flatMap(encodings);

  const leaksIn = (result: JobResult): string[] => {
    const text = [result.log, result.attachments, ...result.statuses.map((s) => s.description ?? "")].join(
      "\n",
    );
    const printed = [...text.matchAll(/^LEAK: (.*)$/gm)].map((match) => match[1] ?? "");
    const canaries = forms
      .filter((form) => text.includes(form))
      .map(() => "a canary secret is in the output");
    return [...new Set([...printed, ...canaries])];
  };

  const strangerPull = async (files: FileMap) => {
    const pull = await emulator.openPull({ repo: TARGET_REPO, author: STRANGER, files });
    await waitForStatuses(deployment, TARGET_REPO, pull.sha, ATTACK_CONTEXT, has("Manual testing required"));
    return pull;
  };
  const approve = (pull: number) =>
    emulator.deliver("issue_comment", commentEvent(TARGET_REPO, pull, "/hangar approve"));
  const finalOf = (repo: string, context: string, sha: string) =>
    waitForStatuses(deployment, repo, sha, context, isFinal, JOB_TIMEOUT_MS);

  async function fireJob(attack: JobAttack): Promise<string> {
    const files: FileMap = {
      ".hangar/run": { content: attack.script(target), executable: true },
      ...(attack.files?.(target) ?? {}),
    };
    let statuses: PostedStatus[];
    if (attack.author === "trusted") {
      const pull = await emulator.openPull({ repo: TRUSTED_REPO, author: MAINTAINER, files });
      statuses = await finalOf(TRUSTED_REPO, TRUSTED_CONTEXT, pull.sha);
    } else {
      const pull = await strangerPull(files);
      await approve(pull.number);
      statuses = await finalOf(TARGET_REPO, ATTACK_CONTEXT, pull.sha);
    }
    const result = await readResult(statuses);
    const leaks = leaksIn(result);
    const after = await attack.after?.(target);
    if (after) leaks.push(after);
    if (leaks.length > 0) return `LEAKED: ${leaks.join("; ")}`;
    if (attack.mustRun && !result.log.includes(`ATTEMPTED ${attack.id}`)) {
      return `did not run: ${statuses.at(-1)?.description ?? "no status"}`;
    }
    return "contained";
  }

  const LEAKY_RUN = `#!/bin/sh
echo "ATTEMPTED pipeline"
[ -n "\${HANGAR_SECRETS_DIR:-}" ] && [ -r "$HANGAR_SECRETS_DIR/${SECRET_NAME}" ] && echo "LEAK: secret dir readable"
cat "\${HANGAR_SECRETS_DIR:-/nonexistent}/${SECRET_NAME}" 2>/dev/null
true
`;

  /** Every event delivered so far has been scanned once a later, trusted PR got its first status. */
  async function scannedSoFar(): Promise<void> {
    const pull = await emulator.openPull({ repo: TRUSTED_REPO, author: MAINTAINER, files: benign });
    await finalOf(TRUSTED_REPO, TRUSTED_CONTEXT, pull.sha);
  }

  /** Statuses on a head besides "Manual testing required" mean something ran (or was queued): judge its end. */
  async function ranOn(sha: string): Promise<string | undefined> {
    const statuses = (await emulator.statuses(TARGET_REPO, sha)).filter((s) => s.context === ATTACK_CONTEXT);
    // Statuses that only say what waits (or what a trigger asked for) are not a run.
    const idle = new Set(["Manual testing required", "Not yet tested (direct trigger)"]);
    if (statuses.every((s) => idle.has(s.description ?? ""))) return undefined;
    const final = await finalOf(TARGET_REPO, ATTACK_CONTEXT, sha).catch((error: Error) => {
      throw new Error(`${error.message}; statuses: ${statuses.map((s) => s.description).join(", ")}`);
    });
    const leaks = leaksIn(await readResult(final));
    return leaks.length > 0 ? `LEAKED: ${leaks.join("; ")}` : undefined;
  }

  async function firePipeline(attack: PipelineAttack): Promise<string> {
    const leaky = { ".hangar/run": { content: LEAKY_RUN, executable: true } };
    switch (attack.id) {
      case "push-after-approval": {
        const pull = await strangerPull(benign);
        await approve(pull.number);
        const pushed = await emulator.pushToPull({ repo: TARGET_REPO, number: pull.number, files: leaky });
        await scannedSoFar();
        const ran = await ranOn(pushed.sha);
        if (ran) return ran;
        const statuses = (await emulator.statuses(TARGET_REPO, pushed.sha)).filter(
          (s) => s.context === ATTACK_CONTEXT && s.description !== "Manual testing required",
        );
        return statuses.length > 0
          ? `LEAKED: the pushed commit got ${statuses[0]?.description}`
          : "contained";
      }
      case "closed-pr-trigger": {
        const pull = await strangerPull(leaky);
        await emulator.closePull({ repo: TARGET_REPO, number: pull.number });
        const token = readFileSync(join(deployment.dir, "github-token"), "utf8").trim();
        const response = await fetch(`${emulator.url}/repos/${TARGET_REPO}/statuses/${pull.sha}`, {
          method: "POST",
          headers: { authorization: `token ${token}`, "content-type": "application/json" },
          body: JSON.stringify({
            state: "pending",
            context: ATTACK_CONTEXT,
            description: "Not yet tested (direct trigger)",
          }),
        });
        if (!response.ok) return `could not post the trigger: ${response.status}`;
        await scannedSoFar();
        return (await ranOn(pull.sha)) ?? "contained";
      }
      case "unsigned-entry": {
        const pull = await strangerPull(leaky);
        const loaded = loadConfigFile(deployment.configFile);
        const queue = await openConfiguredQueue(loaded, {}, createLogger({ level: "silent" }));
        try {
          const job = {
            repo: TARGET_REPO,
            sha: pull.sha,
            pull: pull.number,
            context: ATTACK_CONTEXT,
            slug: `forged-${target.marker}`,
            secrets: [SECRET_NAME],
            trusted: true,
          };
          await queue.publish(loaded.config.queue.names.public, JSON.stringify({ job, human: "forged" }));
        } finally {
          await queue.close();
        }
        const final = await finalOf(TARGET_REPO, ATTACK_CONTEXT, pull.sha);
        const result = await readResult(final);
        const leaks = leaksIn(result);
        if (leaks.length > 0) return `LEAKED: ${leaks.join("; ")}`;
        return result.log.includes("ATTEMPTED pipeline") ? "contained" : "contained (refused to run)";
      }
    }
  }

  return {
    executor,
    target,
    async fire(attack) {
      const outcome = await (attack.kind === "job" ? fireJob(attack) : firePipeline(attack)).catch(
        (error: unknown) => `could not judge: ${(error as Error).message}`,
      );
      return { id: attack.id, title: attack.title, executor, outcome };
    },
    async control() {
      const script = `#!/bin/sh\necho "control: $(cat "$HANGAR_SECRETS_DIR/${SECRET_NAME}")"\n`;
      const pull = await emulator.openPull({
        repo: TRUSTED_REPO,
        author: MAINTAINER,
        files: { ".hangar/run": { content: script, executable: true } },
      });
      const result = await readResult(await finalOf(TRUSTED_REPO, TRUSTED_CONTEXT, pull.sha));
      const final = result.statuses.at(-1);
      const ok =
        final?.state === "success" && /control: \*\*\*/.test(result.log) && leaksIn(result).length === 0;
      const outcome = ok
        ? "contained"
        : `FAILED: ${final?.description ?? "no status"}; log: ${result.log.slice(-300)}`;
      return {
        id: "next-job-runs",
        title: "after all attacks, a trusted job runs and its secret is masked",
        executor,
        outcome,
      };
    },
    async close() {
      rmSync(target.hostTmpCanary, { force: true });
      await deployment.stop();
    },
  };
}

/** Fire every attack, a few at a time (the worker runs 4 jobs at once), then the control. */
export async function fireAll(range: Range, attacks: readonly Attack[], parallel = 4): Promise<Finding[]> {
  const findings: Finding[] = [];
  const queue = [...attacks];
  const lane = async () => {
    for (let attack = queue.shift(); attack; attack = queue.shift()) findings.push(await range.fire(attack));
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  findings.push(await range.control());
  const order = new Map(attacks.map((attack, index) => [attack.id, index]));
  return findings.sort((a, b) => (order.get(a.id) ?? 99) - (order.get(b.id) ?? 99));
}

export { waitFor };
