/** Drives an emulator running in another process, through its /_emulator/ control API. */
import { CONTROL_PREFIX } from "./control.js";
import { type EmulatorControl, EmulatorError } from "./types.js";

export interface EmulatorClient extends EmulatorControl {
  readonly url: string;
  /** The API URL and clone base the emulator reports. */
  info(): Promise<{ url: string; cloneBase: string }>;
}

export function connectEmulator(url: string): EmulatorClient {
  const base = url.replace(/\/+$/, "");
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${base}${CONTROL_PREFIX}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const text = await response.text();
    const data: unknown = text === "" ? undefined : JSON.parse(text);
    if (!response.ok) {
      const message = (data as { message?: unknown } | undefined)?.message;
      throw new EmulatorError(
        response.status,
        `emulator ${method} ${path}: ${typeof message === "string" ? message : response.status}`,
      );
    }
    return data as T;
  };
  const repoPath = (repo: string): string => `/repos/${repo.split("/").map(encodeURIComponent).join("/")}`;
  return {
    url: base,
    info: () => call("GET", ""),
    createRepo: (input) => call("POST", "/repos", input),
    pushBranch: ({ repo, ...rest }) => call("POST", `${repoPath(repo)}/branches`, rest),
    setOrgMembers: (org, members) => call("PUT", `/orgs/${encodeURIComponent(org)}/members`, { members }),
    openPull: ({ repo, ...rest }) => call("POST", `${repoPath(repo)}/pulls`, rest),
    pushToPull: ({ repo, number, ...rest }) =>
      call("POST", `${repoPath(repo)}/pulls/${number}/commits`, rest),
    closePull: ({ repo, number, ...rest }) => call("POST", `${repoPath(repo)}/pulls/${number}/close`, rest),
    addLabel: ({ repo, number, ...rest }) => call("POST", `${repoPath(repo)}/pulls/${number}/labels`, rest),
    addComment: ({ repo, number, ...rest }) =>
      call("POST", `${repoPath(repo)}/issues/${number}/comments`, rest),
    deliver: (event, payload) => call("POST", "/deliveries", { event, payload }),
    setWebhook: (target) => call("PUT", "/webhook", target),
    statuses: (repo, sha) => call("GET", `${repoPath(repo)}/statuses/${encodeURIComponent(sha)}`),
    requests: () => call("GET", "/requests"),
    deliveries: () => call("GET", "/deliveries"),
    injectFault: (rule) => call("POST", "/faults", rule),
    clearFaults: () => call("DELETE", "/faults"),
    idle: () => call("POST", "/idle"),
  };
}
