/** Webhook payloads the emulator has no control call for: comments on PRs, check-run re-runs. */

export function commentEnvelope(repo: string, pull: number, commenter: string, body: string) {
  return {
    event: "issue_comment",
    request: {
      action: "created",
      issue: { number: pull, pull_request: { url: `https://api.example/repos/${repo}/pulls/${pull}` } },
      comment: { id: 1, body, user: { login: commenter } },
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
