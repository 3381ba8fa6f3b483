/**
 * Per project: which forge hosts the repository (GitHub or Forgejo/Gitea) and how
 * results go out (commit statuses or GitHub check runs). One Forge routes each call
 * by its repository, on top of the GitHub forge that createForge made.
 */
import {
  ConfigError,
  type HangarConfig,
  type LoadedConfig,
  resolveOptionalSecret,
  resolveSecret,
  type SecretContext,
} from "../config/index.js";
import type { Logger } from "../util/logger.js";
import { GitHubAppAuth } from "./app-auth.js";
import { ChecksForge } from "./checks.js";
import { type ForgeExtras, GitHubExtras } from "./extras.js";
import { ForgejoForge } from "./forgejo.js";
import { createForge } from "./index.js";
import { type CommitStatus, type Forge, onBranch } from "./types.js";

type Env = Readonly<Record<string, string | undefined>>;

/** The GitHub App of `forge.github.app`, or undefined when hangar uses a token. */
export function configuredApp(loaded: LoadedConfig, env: Env): GitHubAppAuth | undefined {
  const github = loaded.config.forge.github;
  if (github.app === undefined) return undefined;
  return new GitHubAppAuth({
    api: github.api,
    appId: github.app.appId,
    privateKey: resolveSecret(github.app.privateKey, "forge.github.app.privateKey", {
      env,
      baseDir: loaded.baseDir,
    }),
    installationId: github.app.installationId,
  });
}

export interface ProjectForgeOptions {
  readonly loaded: LoadedConfig;
  readonly env: Env;
  readonly logger: Logger;
  /** The GitHub forge from createForge (with the App's fetch when there is an App). */
  readonly github: Forge;
  readonly app?: GitHubAppAuth | undefined;
}

export interface ProjectForges {
  /** Routes every call to the forge (and reporting) of the repository's project. */
  readonly forge: Forge & ForgeExtras;
  /** A token for cloning a repository: a fresh installation token with an App. */
  cloneToken(repo: string): Promise<string | undefined>;
}

interface Route {
  readonly forge: Forge;
  readonly extras: ForgeExtras;
}

function checkProjects(loaded: LoadedConfig): void {
  const { config } = loaded;
  const problems: string[] = [];
  for (const [repo, project] of Object.entries(config.projects)) {
    if (project.forge === "forgejo" && config.forge.forgejo === undefined)
      problems.push(`projects.${repo}.forge: forgejo needs forge.forgejo (api, clone, token)`);
    if (project.report === "checks" && config.forge.github.app === undefined)
      problems.push(`projects.${repo}.report: checks needs a GitHub App in forge.github.app`);
  }
  if (problems.length > 0) throw new ConfigError(loaded.source, problems);
}

export function projectForges(options: ProjectForgeOptions): ProjectForges {
  const { loaded, app } = options;
  checkProjects(loaded);
  const { config } = loaded;
  const secrets: SecretContext = { env: options.env, baseDir: loaded.baseDir };
  const github = config.forge.github;
  const token = app ? undefined : resolveOptionalSecret(github.token, "forge.github.token", secrets);
  const githubExtras = new GitHubExtras({ api: github.api, token, fetch: app?.fetch });
  const plain: Route = { forge: options.github, extras: githubExtras };
  // In a dry run (post: false) check runs are not written either: the GitHub forge logs statuses.
  const checks: Route | undefined =
    app && github.post
      ? {
          forge: new ChecksForge({ base: options.github, api: github.api, fetch: app.fetch }),
          extras: githubExtras,
        }
      : undefined;

  const forgejoConfig = config.forge.forgejo;
  const forgejoToken = resolveOptionalSecret(forgejoConfig?.token, "forge.forgejo.token", secrets);
  let forgejo: Route | undefined;
  if (forgejoConfig !== undefined) {
    const forge = new ForgejoForge({
      api: forgejoConfig.api,
      token: forgejoToken,
      post: forgejoConfig.post,
      logger: options.logger.child({ part: "forge", forge: "forgejo" }),
    });
    forgejo = { forge, extras: forge };
  }

  const routeOf = (repo: string): Route => {
    const project = config.projects[repo];
    if (project?.forge === "forgejo" && forgejo) return forgejo;
    if (project?.report === "checks" && checks) return checks;
    return plain;
  };
  return {
    forge: new ProjectForge(routeOf, plain),
    cloneToken: async (repo) => {
      if (config.projects[repo]?.forge === "forgejo") return forgejoToken;
      return app ? app.installationToken(repo) : token;
    },
  };
}

/** The clone base of a repository on another forge than GitHub; undefined for GitHub's. */
export function cloneBaseOf(config: HangarConfig, repo: string): string | undefined {
  const forgejo = config.forge.forgejo;
  return config.projects[repo]?.forge === "forgejo" && forgejo ? forgejo.clone : undefined;
}

class ProjectForge implements Forge, ForgeExtras {
  constructor(
    private readonly routeOf: (repo: string) => Route,
    /** Org membership has no repository: trust is checked on GitHub. */
    private readonly fallback: Route,
  ) {}

  getPull: Forge["getPull"] = (repo, pull) => this.routeOf(repo).forge.getPull(repo, pull);
  listOpenPulls: Forge["listOpenPulls"] = (repo) => this.routeOf(repo).forge.listOpenPulls(repo);
  getStatuses: Forge["getStatuses"] = (repo, sha) => this.routeOf(repo).forge.getStatuses(repo, sha);
  readFile: Forge["readFile"] = (repo, ref, path) => this.routeOf(repo).forge.readFile(repo, ref, path);
  isOrgMember: Forge["isOrgMember"] = (org, user) => this.fallback.forge.isOrgMember(org, user);
  isOnBranch = (repo: string, branch: string, sha: string) =>
    onBranch(this.routeOf(repo).forge, repo, branch, sha);
  createIssue: Forge["createIssue"] = (repo, issue) => this.routeOf(repo).forge.createIssue(repo, issue);
  comment: Forge["comment"] = (repo, issue, body) => this.routeOf(repo).forge.comment(repo, issue, body);
  postStatus(repo: string, sha: string, status: CommitStatus): Promise<void> {
    return this.routeOf(repo).forge.postStatus(repo, sha, status);
  }
  branchHead: ForgeExtras["branchHead"] = (repo, branch) =>
    this.routeOf(repo).extras.branchHead(repo, branch);
  findOpenIssue: ForgeExtras["findOpenIssue"] = (repo, title) =>
    this.routeOf(repo).extras.findOpenIssue(repo, title);
  closeIssue: ForgeExtras["closeIssue"] = (repo, issue) => this.routeOf(repo).extras.closeIssue(repo, issue);
}

/** The GitHub forge (token or App, no outbox) and the per-project routing on top: for CLI commands. */
export function openProjectForges(
  loaded: LoadedConfig,
  env: Env,
  logger: Logger,
): ProjectForges & { close(): Promise<void> } {
  const app = configuredApp(loaded, env);
  const github = loaded.config.forge.github;
  const token = app
    ? undefined
    : resolveOptionalSecret(github.token, "forge.github.token", { env, baseDir: loaded.baseDir });
  const base = createForge({
    api: github.api,
    token,
    post: github.post,
    logger,
    fetch: app?.fetch,
    timeoutMs: github.timeoutSeconds * 1000,
  });
  return { ...projectForges({ loaded, env, logger, github: base, app }), close: () => base.close() };
}
