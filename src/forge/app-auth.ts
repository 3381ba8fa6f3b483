/**
 * GitHub App authentication: the app's private key signs a JWT (RS256), which is
 * exchanged for installation tokens; @octokit/auth-app caches each token and mints
 * a new one before it expires. Requests, clones and check runs all use those tokens.
 */
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/rest";

export interface AppAuthOptions {
  readonly api: string;
  readonly appId: number | string;
  /** PEM, PKCS#1 (as GitHub hands it out) or PKCS#8. */
  readonly privateKey: string;
  /** The one installation to use; found per repository owner when absent. */
  readonly installationId?: number | undefined;
  readonly fetch?: typeof fetch | undefined;
}

/** The repository (`owner/name`) or organization an API path is about, whose installation it needs. */
function pathOwner(path: string): string | undefined {
  const repo = /^\/repos\/([^/]+\/[^/]+)/.exec(path);
  if (repo?.[1]) return repo[1];
  return /^\/orgs\/([^/]+)/.exec(path)?.[1];
}

export class GitHubAppAuth {
  private readonly auth: ReturnType<typeof createAppAuth>;
  private readonly base: URL;
  private readonly baseFetch: typeof fetch;
  /** Installation id per owner: an App is installed on an account, for some or all of its repositories. */
  private readonly installations = new Map<string, Promise<number>>();

  constructor(private readonly options: AppAuthOptions) {
    this.baseFetch = options.fetch ?? fetch;
    this.base = new URL(options.api.endsWith("/") ? options.api : `${options.api}/`);
    const octokit = new Octokit({
      baseUrl: options.api.replace(/\/+$/, ""),
      userAgent: "hangar",
      request: { fetch: this.baseFetch },
    });
    this.auth = createAppAuth({
      appId: options.appId,
      privateKey: options.privateKey,
      request: octokit.request,
      ...(options.installationId === undefined ? {} : { installationId: options.installationId }),
    });
  }

  /** A JWT for the app itself: only good for the /app endpoints and installation lookups. */
  async appJwt(): Promise<string> {
    return (await this.auth({ type: "app" })).token;
  }

  /** An installation token for a repository (`owner/name`) or an account; cached until near expiry. */
  async installationToken(repoOrOwner?: string): Promise<string> {
    const installationId = await this.installationFor(repoOrOwner);
    return (await this.auth({ type: "installation", installationId })).token;
  }

  /** A fetch that authenticates each API request with the installation token its path calls for. */
  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const path = this.apiPath(url);
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    for (const [name, value] of new Headers(init?.headers)) headers.set(name, value);
    const token = await this.installationToken(path === null ? undefined : pathOwner(path));
    headers.set("authorization", `token ${token}`);
    return this.baseFetch(input instanceof Request ? input.url : url, { ...init, headers });
  };

  private apiPath(url: URL): string | null {
    if (url.origin !== this.base.origin || !url.pathname.startsWith(this.base.pathname)) return null;
    return `/${url.pathname.slice(this.base.pathname.length)}`;
  }

  private installationFor(repoOrOwner: string | undefined): Promise<number> {
    if (this.options.installationId !== undefined) return Promise.resolve(this.options.installationId);
    if (repoOrOwner === undefined) {
      return Promise.reject(
        new Error("a GitHub App without forge.github.app.installationId needs a repository"),
      );
    }
    const [owner = repoOrOwner, name] = repoOrOwner.split("/");
    let found = this.installations.get(owner);
    if (found === undefined) {
      found = this.lookUpInstallation(
        name === undefined ? `/orgs/${owner}/installation` : `/repos/${owner}/${name}/installation`,
      );
      this.installations.set(owner, found);
      // A failed lookup (not installed yet, network) is not remembered.
      found.catch(() => this.installations.delete(owner));
    }
    return found;
  }

  private async lookUpInstallation(route: string): Promise<number> {
    const response = await this.baseFetch(new URL(route.slice(1), this.base), {
      headers: {
        authorization: `bearer ${await this.appJwt()}`,
        accept: "application/vnd.github+json",
        "user-agent": "hangar",
      },
    });
    if (!response.ok) {
      await response.arrayBuffer();
      throw new Error(`GitHub App installation lookup GET ${route} failed: ${response.status}`);
    }
    const body = (await response.json()) as { id?: unknown };
    if (typeof body.id !== "number") throw new Error(`GitHub App installation lookup GET ${route}: no id`);
    return body.id;
  }
}
