/**
 * A stateful stand-in for the parts of GitHub hangar uses: the REST API on node:http, real
 * bare git repositories under `dir` (`<dir>/<owner>/<name>.git`; git also finds them as
 * `<dir>/<owner>/<name>`, so the clone base is `dir` itself), and signed webhooks.
 * The control API (repos, pulls, faults, records) works in process and under /_emulator/.
 */
import { timingSafeEqual } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { z } from "zod";
import { apiRoutes } from "./api.js";
import { isAppCredential } from "./app.js";
import { CONTROL_PREFIX, controlRoutes } from "./control.js";
import { hookRoutes } from "./hooks.js";
import { errorBody, Faults, HttpError, matchRoute, type Reply, type Route, readBody } from "./http.js";
import { EmulatorState, splitRepo } from "./state.js";
import {
  type Emulator,
  type EmulatorControl,
  EmulatorError,
  type EmulatorOptions,
  type RecordedRequest,
} from "./types.js";

export { connectEmulator } from "./client.js";
export { HOOK_ID } from "./hooks.js";
export * from "./payloads.js";
export * from "./types.js";
export { deliverWebhook, type WebhookRequest, webhookRequest } from "./webhooks.js";

const API_BODY_LIMIT = 25 * 1024 * 1024;
const CONTROL_BODY_LIMIT = 64 * 1024 * 1024;
const MAX_RECORDED_REQUESTS = 100_000;

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const recorded: RecordedRequest[] = [];
  const faults = new Faults();
  let handle: (request: IncomingMessage, response: ServerResponse) => Promise<void> = async () => undefined;
  const server = createServer((request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => done());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  const state = new EmulatorState(
    dir,
    { api: url, web: url, clone: dir },
    options.user ?? "hangar-bot",
    options.webhook ?? null,
  );
  const control: EmulatorControl = {
    createRepo: (input) => state.createRepo(input),
    pushBranch: (input) => state.pushBranch(input),
    setOrgMembers: async (org, members) => state.setOrgMembers(org, members),
    openPull: (input) => state.openPull(input),
    pushToPull: (input) => state.pushToPull(input),
    closePull: (input) => state.closePull(input),
    addLabel: (input) => state.addLabel(input),
    addComment: (input) => state.addComment(input),
    deliver: (event, payload) => state.deliver(event, payload),
    setWebhook: async (target) => state.setWebhook(target),
    statuses: async (repo, sha) => {
      const [owner, name] = splitRepo(repo);
      return [...(state.repo(`${owner}/${name}`).statuses.get(sha) ?? [])].map(
        ({ id: _id, ...status }) => status,
      );
    },
    requests: async () => [...recorded],
    deliveries: async () => [...state.recordedDeliveries],
    injectFault: async (rule) => faults.add(rule),
    clearFaults: async () => faults.clear(),
    idle: () => state.idle(),
  };
  const api = [...apiRoutes(state), ...hookRoutes(state)];
  const controls = controlRoutes(control, { url, cloneBase: dir });

  handle = async (request, response) => {
    const started = Date.now();
    const method = request.method ?? "GET";
    const target = new URL(request.url ?? "/", url);
    const isControl = target.pathname === CONTROL_PREFIX || target.pathname.startsWith(`${CONTROL_PREFIX}/`);
    let body: unknown;
    let reply: Reply;
    try {
      body = await readBody(request, isControl ? CONTROL_BODY_LIMIT : API_BODY_LIMIT);
      reply = isControl
        ? await dispatch(controls, method, target, request, body)
        : await answerApi(method, target, request, body);
    } catch (error) {
      reply = errorReply(error, isControl);
    }
    send(response, reply);
    if (isControl) return;
    recorded.push({
      method,
      path: `${target.pathname}${target.search}`,
      status: reply.status,
      time: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      ...(body === undefined ? {} : { body }),
    });
    if (recorded.length > MAX_RECORDED_REQUESTS) recorded.shift();
  };

  async function answerApi(
    method: string,
    target: URL,
    request: IncomingMessage,
    body: unknown,
  ): Promise<Reply> {
    const fault = faults.take(method, target.pathname);
    if (fault?.delayMs !== undefined) {
      await new Promise((done) => setTimeout(done, fault.delayMs));
      // A client that gave up meanwhile gets nothing done (nginx's 499, recorded only).
      if (request.socket.destroyed) return { status: 499, body: errorBody(499, "Client closed request") };
    }
    if (fault?.status !== undefined) {
      return {
        status: fault.status,
        body: fault.body ?? errorBody(fault.status, `Injected fault ${fault.status}`),
        headers: { ...fault.headers },
      };
    }
    const header = request.headers.authorization;
    if (
      options.token !== undefined &&
      !authorized(header, options.token) &&
      !isAppCredential(state, header)
    ) {
      throw new HttpError(401, "Bad credentials");
    }
    return dispatch(api, method, target, request, body);
  }

  return {
    ...control,
    url,
    cloneBase: dir,
    close: async () => {
      await state.idle();
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
    },
  };
}

async function dispatch(
  routes: readonly Route[],
  method: string,
  url: URL,
  request: IncomingMessage,
  body: unknown,
): Promise<Reply> {
  const found = matchRoute(routes, method, url.pathname);
  if (found === null) throw new HttpError(404, "Not Found");
  return found.route.handler({ method, url, params: found.params, headers: request.headers, body });
}

function authorized(header: string | undefined, token: string): boolean {
  const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header ?? "");
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function errorReply(error: unknown, isControl: boolean): Reply {
  if (error instanceof HttpError) {
    return {
      status: error.status,
      body: errorBody(error.status, error.message, error.errors),
      ...(error.headers ? { headers: error.headers } : {}),
    };
  }
  if (isControl && error instanceof EmulatorError)
    return { status: error.status, body: errorBody(error.status, error.message) };
  if (isControl && error instanceof z.ZodError) {
    return { status: 400, body: errorBody(400, z.prettifyError(error)) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: errorBody(500, message) };
}

function send(response: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = {
    "x-github-media-type": "github.v3; format=json",
    ...reply.headers,
  };
  if (reply.raw !== undefined) {
    response.writeHead(reply.status, { ...headers, "content-type": reply.raw.contentType });
    response.end(reply.raw.data);
  } else if (reply.body === undefined || reply.status === 204) {
    response.writeHead(reply.status, headers);
    response.end();
  } else {
    response.writeHead(reply.status, { ...headers, "content-type": "application/json; charset=utf-8" });
    response.end(JSON.stringify(reply.body));
  }
}
