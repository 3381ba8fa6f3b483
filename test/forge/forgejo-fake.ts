/** A small fake of the Forgejo/Gitea API (/api/v1): the endpoints hangar uses, from memory. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeForgejo {
  readonly api: string;
  readonly statuses: Map<
    string,
    { context: string; status: string; description: string; target_url: string; created_at: string }[]
  >;
  readonly issues: {
    number: number;
    title: string;
    body: string;
    state: string;
    labels: number[];
    comments: string[];
  }[];
  readonly requests: string[];
  close(): Promise<void>;
}

const HEAD = "a".repeat(40);
const BRANCH_HEAD = "b".repeat(40);

export const FAKE_PULL = {
  number: 3,
  headSha: HEAD,
  branchHead: BRANCH_HEAD,
  statusTime: "2024-05-01T10:00:00+02:00",
};

export async function startFakeForgejo(token: string): Promise<FakeForgejo> {
  const statuses: FakeForgejo["statuses"] = new Map();
  const issues: FakeForgejo["issues"] = [];
  const requests: string[] = [];
  const pull = {
    number: 3,
    state: "open",
    title: "Port to Forgejo",
    user: { login: "alice" },
    labels: [{ id: 1, name: "bug" }],
    html_url: "http://fake/forge/proj/pulls/3",
    head: { sha: HEAD, ref: "port", repo: { owner: { login: "alice" } } },
    base: { ref: "main" },
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const url = new URL(request.url ?? "/", "http://fake");
      const path = url.pathname.replace(/^\/api\/v1/, "");
      requests.push(`${request.method} ${path}`);
      const body = chunks.length
        ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>)
        : {};
      const send = (status: number, value?: unknown, type = "application/json") => {
        response.writeHead(status, { "content-type": type });
        response.end(
          value === undefined ? undefined : typeof value === "string" ? value : JSON.stringify(value),
        );
      };
      if (request.headers.authorization !== `token ${token}`) return send(401, { message: "unauthorized" });
      const page = Number(url.searchParams.get("page") ?? "1");
      const route = `${request.method} ${path}`;
      let match: RegExpExecArray | null;
      if (route === "GET /repos/forge/proj/pulls/3") return send(200, pull);
      if (route === "GET /repos/forge/proj/pulls") return send(200, page === 1 ? [pull] : []);
      match = /^GET \/repos\/forge\/proj\/commits\/([^/]+)\/status$/.exec(route);
      if (match) {
        const list = [...(statuses.get(match[1] ?? "") ?? [])].reverse();
        return send(200, {
          state: "pending",
          sha: match[1],
          statuses: page === 1 ? list : [],
          total_count: list.length,
        });
      }
      match = /^POST \/repos\/forge\/proj\/statuses\/([0-9a-f]{40})$/.exec(route);
      if (match) {
        const list = statuses.get(match[1] ?? "") ?? [];
        list.push({
          context: String(body.context),
          status: String(body.state),
          description: String(body.description ?? ""),
          target_url: String(body.target_url ?? ""),
          created_at: FAKE_PULL.statusTime,
        });
        statuses.set(match[1] ?? "", list);
        return send(201, { id: list.length });
      }
      if (route === "GET /repos/forge/proj/raw/.hangar/run")
        return url.searchParams.get("ref") === "main"
          ? send(200, "#!/bin/sh\n", "text/plain")
          : send(404, {});
      match = /^GET \/repos\/forge\/proj\/raw\//.exec(route);
      if (match) return send(404, { message: "not found" });
      if (route === "GET /orgs/devs/members/alice") return send(204);
      match = /^GET \/orgs\/devs\/members\//.exec(route);
      if (match) return send(404, {});
      // main holds BRANCH_HEAD (0 commits it lacks); the PR's head is one commit ahead of it.
      match = /^GET \/repos\/forge\/proj\/compare\/main\.\.\.([0-9a-f]{40})$/.exec(route);
      if (match?.[1] === BRANCH_HEAD) return send(200, { total_commits: 0, commits: [] });
      if (match?.[1] === HEAD) return send(200, { total_commits: 1, commits: [{ sha: HEAD }] });
      if (match) return send(404, { message: "not found" });
      if (route === "GET /repos/forge/proj/branches/main")
        return send(200, { name: "main", commit: { id: BRANCH_HEAD } });
      if (route === "GET /repos/forge/proj/labels")
        return send(200, page === 1 ? [{ id: 7, name: "ci" }] : []);
      if (route === "POST /repos/forge/proj/issues") {
        const issue = {
          number: 10 + issues.length,
          title: String(body.title),
          body: String(body.body),
          state: "open",
          labels: (body.labels as number[] | undefined) ?? [],
          comments: [],
        };
        issues.push(issue);
        return send(201, issue);
      }
      if (route === "GET /repos/forge/proj/issues")
        return send(
          200,
          page === 1 ? issues.filter((issue) => issue.state === url.searchParams.get("state")) : [],
        );
      match = /^POST \/repos\/forge\/proj\/issues\/(\d+)\/comments$/.exec(route);
      if (match) {
        issues.find((issue) => issue.number === Number(match?.[1]))?.comments.push(String(body.body));
        return send(201, { id: 1 });
      }
      match = /^PATCH \/repos\/forge\/proj\/issues\/(\d+)$/.exec(route);
      if (match) {
        const issue = issues.find((candidate) => candidate.number === Number(match?.[1]));
        if (issue) issue.state = String(body.state);
        return send(201, issue);
      }
      return send(404, { message: `no route ${route}` });
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as AddressInfo).port;
  return {
    api: `http://127.0.0.1:${port}/api/v1`,
    statuses,
    issues,
    requests,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
