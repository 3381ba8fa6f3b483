/**
 * `hangar local`: the deployment of deploy/kubernetes on one machine. Its
 * hangar.yaml and RabbitMQ files come from the ConfigMaps, with local ports,
 * endpoints and fake secrets (deployment-config.ts); GitHub is the emulator,
 * or a real pull request for the self-test. Then one of:
 * - the demo: a pull request goes through all three phases while you watch;
 * - `--selftest`: the interaction tests with a pass/fail summary;
 * - `-i`: the self-tests, then a shell inside the running deployment.
 */
import { once } from "node:events";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ALL_ROLES, type RunningServices, startServices, webhookSecret } from "../cli/services.js";
import { loadConfigFile, workerName } from "../config/index.js";
import { readDeploymentFiles } from "../deploy/index.js";
import { type Emulator, startEmulator } from "../emulator/index.js";
import { createLogger } from "../util/logger.js";
import { DEMO_AUTHOR, DEMO_FILES, DEMO_PROJECTS, DEMO_PULL_FILES, DEMO_REPO } from "./demo.js";
import { runDemo } from "./demo-run.js";
import {
  type ConfigTree,
  localConfigFrom,
  parseProductionConfig,
  secretFiles,
  stateDirs,
} from "./deployment-config.js";
import { randomSecret, writeFakeSecrets } from "./fake-secrets.js";
import { type LocalRabbit, startLocalRabbit } from "./rabbit-config.js";
import { RabbitUnavailableError, rabbitUnavailable } from "./rabbit-node.js";
import { runChecks, selftestContext } from "./selftest/checks.js";
import { GitHubRest, type Json } from "./selftest/github.js";
import { runShell, writeHangarWrapper, writeRabbitmqctlWrapper } from "./shell.js";
import { createWorkspace, writeConfig } from "./workspace.js";

/** A real pull request to run the self-test against, instead of the emulator's. */
export interface RealPull {
  readonly tokenFile: string;
  readonly repo: string;
  readonly pull: number;
}

export interface LocalOptions {
  /** Demo only: exit after the demo PR, 0 when all its contexts succeeded. */
  readonly once: boolean;
  /** Leave the workspace directory in place afterwards. */
  readonly keep: boolean;
  readonly timeoutMs: number;
  readonly print: (line: string) => void;
  /** Resolves when the user wants to stop (a signal). */
  readonly stopped: Promise<void>;
  /** deploy/kubernetes to read the ConfigMaps from; the installation's own by default. */
  readonly manifestsDir?: string;
  /** A private RabbitMQ node instead of the embedded SQLite queue. */
  readonly rabbitmq?: boolean;
  readonly selftest?: boolean;
  /** Self-tests, then an interactive shell; torn down when it exits. */
  readonly interactive?: boolean;
  readonly github?: RealPull;
  /** The interactive shell: $SHELL or /bin/bash. */
  readonly shell?: string;
}

/** Stops what was started, last first. */
class Teardown {
  private readonly steps: (() => Promise<unknown>)[] = [];
  push(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.reverse()) await step().catch(() => undefined);
    this.steps.length = 0;
  }
}

function readToken(file: string): string {
  const token = readFileSync(file, "utf8").trim();
  if (token === "") throw new Error(`--github-token ${file} is empty`);
  return token;
}

function productionApi(production: ConfigTree): string {
  const forge = production.forge as { github?: { api?: unknown } } | undefined;
  const api = forge?.github?.api;
  return typeof api === "string" ? api : "https://api.github.com";
}

/** Returns the exit code. */
export async function runLocal(options: LocalOptions): Promise<number> {
  const { print } = options;
  const files = readDeploymentFiles(options.manifestsDir);
  const production = parseProductionConfig(files.hangarYaml);
  if (options.rabbitmq) {
    const missing = rabbitUnavailable();
    if (missing) throw new RabbitUnavailableError(missing);
  }
  const testing = options.selftest === true || options.interactive === true;
  const workspace = await createWorkspace();
  const logStream = createWriteStream(workspace.logFile);
  const logger = createLogger({ level: "info", destination: logStream });
  const teardown = new Teardown();
  try {
    print(`hangar local: workspace ${workspace.dir}`);
    print(`  deployment       ${files.dir}`);
    let rabbit: LocalRabbit | undefined;
    if (options.rabbitmq) {
      rabbit = await startLocalRabbit(files, workspace.rabbitDir);
      const node = rabbit.node;
      teardown.push(() => node.stop());
      print(`  RabbitMQ         ${rabbit.url} (node ${node.name})`);
    }

    let emulator: Emulator | undefined;
    let githubToken: string;
    if (options.github) githubToken = readToken(options.github.tokenFile);
    else {
      githubToken = randomSecret();
      const started = await startEmulator({ dir: workspace.gitDir, token: githubToken });
      emulator = started;
      teardown.push(() => started.close());
      print(`  GitHub emulator  ${started.url}`);
    }
    const api = emulator?.url ?? productionApi(production);
    const github = new GitHubRest(api, githubToken);

    let pull: Json | undefined;
    if (testing) {
      const target = options.github ?? {
        repo: DEMO_REPO,
        pull: await openSelftestPull(emulator as Emulator),
      };
      pull = await github.pull(target.repo, target.pull);
      print(`  pull request     ${target.repo}#${target.pull} by ${String((pull.user as Json).login)}`);
    }
    const repo = String(((pull?.base as Json | undefined)?.repo as Json | undefined)?.full_name ?? DEMO_REPO);

    const config = localConfigFrom(production, {
      forge: emulator ? { api: emulator.url, clone: emulator.cloneBase } : "production",
      queue: rabbit ? { driver: "amqp", url: rabbit.url } : { driver: "sqlite" },
      projects: pull
        ? { [repo]: { branches: { [String((pull.base as Json).ref)]: [selftestContext()] } } }
        : DEMO_PROJECTS,
      trustedUsers: pull ? [String((pull.user as Json).login)] : [DEMO_AUTHOR],
    });
    writeFakeSecrets(workspace.dir, secretFiles(config), {
      webhookSecret: randomSecret(),
      githubToken,
      ...(rabbit ? { certificates: rabbit.certificates } : {}),
    });
    for (const dir of stateDirs(config)) mkdirSync(join(workspace.dir, dir), { recursive: true });
    await writeConfig(workspace, config, join(files.dir, "configmap-hangar.yaml"));
    const loaded = loadConfigFile(workspace.configFile);
    const secret = webhookSecret(loaded, {});
    const services: RunningServices = await startServices({ loaded, env: {}, roles: ALL_ROLES, logger });
    teardown.push(() => services.stop());
    const webhookUrl = services.webhookUrl ?? "";
    print(`  webhook          ${webhookUrl}`);
    print(`  log store        ${services.storeUrl ?? "(none)"}`);
    if (services.dashboardUrl) print(`  dashboard        ${services.dashboardUrl}`);
    print(`  hangar.yaml      ${workspace.configFile}`);
    print(`  hangar's log     ${workspace.logFile}`);

    if (!testing || pull === undefined || services.store === undefined) {
      if (emulator) await emulator.setWebhook({ url: webhookUrl, secret });
      return await runDemo(emulator as Emulator, { ...options, logFile: workspace.logFile });
    }

    print("selftest:");
    const results = await runChecks({
      loaded,
      logger,
      store: services.store,
      webhookUrl,
      webhookSecret: secret,
      workerName: workerName(loaded.config),
      github,
      repo,
      pull,
      timeoutMs: options.timeoutMs,
      print,
    });
    let code = results.every((result) => result.ok) ? 0 : 1;
    if (options.interactive) {
      if (emulator) await emulator.setWebhook({ url: webhookUrl, secret });
      const shellCode = await interactive(options, {
        workspaceDir: workspace.dir,
        binDir: workspace.binDir,
        configFile: workspace.configFile,
        queueUrl: rabbit?.url ?? `sqlite:${join(workspace.dir, "queue.sqlite")}`,
        api,
        webhookUrl,
        storeUrl: services.storeUrl ?? "",
        ...(rabbit ? { rabbit } : {}),
        ...(emulator ? { emulator } : {}),
      });
      code = code === 0 ? shellCode : code;
    }
    return code;
  } finally {
    await teardown.run();
    logStream.end();
    await once(logStream, "close").catch(() => undefined);
    if (options.keep) print(`workspace kept: ${workspace.dir}`);
    else await workspace.remove();
    print("hangar local: stopped everything it started");
  }
}

async function openSelftestPull(emulator: Emulator): Promise<number> {
  await emulator.createRepo({
    repo: DEMO_REPO,
    files: DEMO_FILES,
    description: "hangar's self-test project",
  });
  const pull = await emulator.openPull({
    repo: DEMO_REPO,
    author: DEMO_AUTHOR,
    title: "Self-test: greet from a pull request",
    files: DEMO_PULL_FILES,
    deliver: false,
  });
  return pull.number;
}

interface ShellContext {
  readonly workspaceDir: string;
  readonly binDir: string;
  readonly configFile: string;
  readonly queueUrl: string;
  readonly api: string;
  readonly webhookUrl: string;
  readonly storeUrl: string;
  readonly rabbit?: LocalRabbit;
  readonly emulator?: Emulator;
}

async function interactive(options: LocalOptions, context: ShellContext): Promise<number> {
  const { print } = options;
  await writeHangarWrapper(context.binDir);
  if (context.rabbit) await writeRabbitmqctlWrapper(context.binDir, context.rabbit.node);
  const env: Record<string, string> = {
    HANGAR_CONFIG: context.configFile,
    HANGAR_WORKSPACE: context.workspaceDir,
    HANGAR_QUEUE_URL: context.queueUrl,
    HANGAR_GITHUB_API: context.api,
    HANGAR_WEBHOOK_URL: context.webhookUrl,
    HANGAR_STORE_URL: context.storeUrl,
    ...(context.rabbit ? { HANGAR_RABBITMQ_NODE: context.rabbit.node.name } : {}),
  };
  print("");
  print("A shell inside the deployment; exit it to tear everything down. Try:");
  print("  hangar queue inspect");
  if (context.rabbit) print("  rabbitmqctl list_queues name messages_ready messages_unacknowledged");
  if (context.emulator) {
    print(
      `  curl -X POST "$HANGAR_GITHUB_API/_emulator/repos/${DEMO_REPO}/pulls" -H 'content-type: application/json' \\`,
    );
    print(
      `    -d '{"author": "${DEMO_AUTHOR}", "title": "Another change", "files": {"greet.sh": "echo hi again\\n"}}'`,
    );
  }
  print(`Exported: ${Object.keys(env).join(" ")}`);
  const abort = new AbortController();
  void options.stopped.then(() => abort.abort());
  return runShell({
    shell: options.shell ?? "/bin/bash",
    cwd: context.workspaceDir,
    env,
    binDir: context.binDir,
    signal: abort.signal,
  });
}
