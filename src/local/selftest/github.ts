/**
 * The few GitHub REST calls the self-test makes itself, by plain fetch: the
 * same requests go to the emulator or to api.github.com, so the emulator run
 * exercises the code that posts to a real pull request.
 */

export type Json = { [key: string]: unknown };

export interface StatusEntry {
  readonly context: string;
  readonly state: string;
  readonly description: string | null;
  readonly target_url: string | null;
}

export class GitHubRest {
  constructor(
    private readonly api: string,
    private readonly token: string,
  ) {}

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.api.replace(/\/+$/, "")}${path}`, {
      method,
      headers: {
        accept: "application/vnd.github+json",
        authorization: `token ${this.token}`,
        "user-agent": "hangar-selftest",
        "x-github-api-version": "2022-11-28",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) throw new Error(`GitHub ${method} ${path}: ${response.status} ${response.statusText}`);
    return response.json();
  }

  /** The pull request as the REST API has it: the `pull_request` of a webhook payload. */
  async pull(repo: string, number: number): Promise<Json> {
    return (await this.request("GET", `/repos/${repo}/pulls/${number}`)) as Json;
  }

  /** Every status of a commit, oldest first. */
  async statuses(repo: string, sha: string): Promise<StatusEntry[]> {
    const all: StatusEntry[] = [];
    for (let page = 1; page <= 10; page++) {
      const batch = (await this.request(
        "GET",
        `/repos/${repo}/commits/${sha}/statuses?per_page=100&page=${page}`,
      )) as StatusEntry[];
      all.push(...batch);
      if (batch.length < 100) break;
    }
    return all.reverse();
  }

  async postStatus(repo: string, sha: string, status: Omit<StatusEntry, "target_url">): Promise<void> {
    await this.request("POST", `/repos/${repo}/statuses/${sha}`, status);
  }
}
