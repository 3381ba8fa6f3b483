/** Small webhook payloads made by hand: comments on PRs (at a given time), check-run re-runs. */

/** A time as GitHub writes it: ISO 8601 in whole seconds. */
export function githubTime(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function commentEnvelope(
  repo: string,
  pull: number,
  commenter: string,
  body: string,
  createdAt = githubTime(),
) {
  return {
    event: "issue_comment",
    request: {
      action: "created",
      issue: { number: pull, pull_request: { url: `https://api.example/repos/${repo}/pulls/${pull}` } },
      comment: { id: 1, body, user: { login: commenter }, created_at: createdAt },
      repository: { full_name: repo },
      sender: { login: commenter },
    },
  };
}

/** Comments on an issue or PR of the emulator, read through its REST API. */
export async function commentsOn(
  api: string,
  repo: string,
  issue: number,
  token?: string,
): Promise<string[]> {
  const response = await fetch(`${api}/repos/${repo}/issues/${issue}/comments?per_page=100`, {
    headers: token === undefined ? {} : { authorization: `token ${token}` },
  });
  if (!response.ok) throw new Error(`GET comments: ${response.status}`);
  return ((await response.json()) as { body: string }[]).map((comment) => comment.body);
}
