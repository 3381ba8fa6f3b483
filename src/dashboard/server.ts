/**
 * The dashboard's HTTP server: server-rendered pages, their live stream,
 * /metrics, the admin login and the actions. Read-only for everyone without
 * the admin token.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import type { Forge } from "../forge/types.js";
import { metricsText } from "../metrics/registry.js";
import { errorMessage } from "../util/errors.js";
import { closeServer, listen } from "../util/http-server.js";
import type { Logger } from "../util/logger.js";
import { ACTIONS, type ActionName, type DashboardControl, runAction } from "./actions.js";
import {
  type Caller,
  clearedCookie,
  crossSiteReason,
  identify,
  safeNext,
  sameSecret,
  sessionCookie,
} from "./auth.js";
import { type Html, html } from "./html.js";
import { layout } from "./layout.js";
import { streamLive } from "./live.js";
import { flakyPage } from "./pages/flaky.js";
import { historyPage } from "./pages/history.js";
import { jobPage } from "./pages/job.js";
import { overviewPage } from "./pages/overview.js";
import { queuesPage } from "./pages/queues.js";
import { workersPage } from "./pages/workers.js";
import type { DashboardSources, PageRoute, PageView } from "./view.js";

export interface DashboardOptions {
  readonly sources: DashboardSources;
  /** Absent: nobody can act; the dashboard is read-only. */
  readonly adminToken?: string;
  /** For retry (posting the direct-trigger status). */
  readonly forge?: Forge;
  /** For cancel and drain. */
  readonly control?: DashboardControl;
  readonly logger: Logger;
  /** How often live sections are rendered again for each open page (default 1000 ms). */
  readonly liveIntervalMs?: number;
  /** Mark the login cookie Secure (the dashboard is reached over HTTPS). */
  readonly secureCookie?: boolean;
}

export interface RunningDashboard {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_FORM_BYTES = 16 * 1024;

function route(path: string): PageRoute | undefined {
  if (path === "/") return overviewPage;
  if (path === "/queues") return queuesPage;
  if (path === "/workers") return workersPage;
  if (path === "/jobs") return historyPage;
  if (path === "/flaky") return flakyPage;
  if (path.startsWith("/jobs/") && path.length > "/jobs/".length) return jobPage;
  return undefined;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function securityHeaders(nonce: string): Record<string, string> {
  return {
    "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
  };
}

/** The path of the page a request came from; a Referer that is not a URL counts as none. */
function refererPath(req: IncomingMessage): string {
  try {
    return new URL(req.headers.referer ?? "/", "http://x").pathname;
  } catch {
    return "/";
  }
}

export function createDashboardHandler(
  options: DashboardOptions,
): RequestListener & { closeStreams(): void } {
  const { sources, adminToken, logger } = options;
  const liveIntervalMs = options.liveIntervalMs ?? 1000;
  const streams = new Set<() => void>();

  function send(
    res: ServerResponse,
    req: IncomingMessage,
    status: number,
    body: Html,
    headers: Record<string, string> = {},
    nonce = randomBytes(12).toString("base64"),
  ) {
    const text = body.text;
    res.writeHead(status, {
      "content-type": "text/html; charset=utf-8",
      "content-length": String(Buffer.byteLength(text)),
      ...securityHeaders(nonce),
      ...headers,
    });
    res.end(req.method === "HEAD" ? undefined : text);
  }

  function message(
    req: IncomingMessage,
    res: ServerResponse,
    caller: Caller,
    status: number,
    title: string,
    body: Html,
    headers: Record<string, string> = {},
  ) {
    const path = req.url ?? "/";
    send(res, req, status, layout({ title, admin: caller === "admin", path }, body), headers);
  }

  async function renderView(view: PageView): Promise<Html> {
    const parts = await Promise.all(
      view.sections.map(
        async (section) => html`<section id="${section.id}">${await section.render()}</section>`,
      ),
    );
    return html`${parts}`;
  }

  async function page(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    caller: Caller,
    pageRoute: PageRoute,
  ) {
    const view = await pageRoute({ url, sources });
    if (view === null) return notFound(req, res, caller);
    const nonce = randomBytes(12).toString("base64");
    const hasLive = view.sections.some((section) => section.live);
    const body = await renderView(view);
    const path = url.pathname + url.search;
    send(
      res,
      req,
      200,
      layout({ title: view.title, admin: caller === "admin", path, ...(hasLive ? { nonce } : {}) }, body),
      {},
      nonce,
    );
  }

  function notFound(req: IncomingMessage, res: ServerResponse, caller: Caller) {
    message(
      req,
      res,
      caller,
      404,
      "Not found",
      html`<p>There is no such page here. <a href="/">Overview</a></p>`,
    );
  }

  async function live(req: IncomingMessage, res: ServerResponse, url: URL) {
    const target = new URL(safeNext(url.searchParams.get("path")), "http://dashboard.invalid");
    const pageRoute = route(target.pathname);
    const view = pageRoute ? await pageRoute({ url: target, sources }) : null;
    if (view === null) {
      res.writeHead(404, { "content-type": "text/plain" }).end("no such page\n");
      return;
    }
    streamLive(req, res, view, liveIntervalMs, (stop) => {
      streams.add(stop);
      return () => streams.delete(stop);
    });
  }

  function loginForm(
    req: IncomingMessage,
    res: ServerResponse,
    caller: Caller,
    next: string,
    status = 200,
    problem?: string,
  ) {
    const body = html`${problem ? html`<p class="notice refused">${problem}</p>` : ""}
${adminToken === undefined ? html`<p class="notice refused">No admin token is configured (<code>dashboard.adminToken</code>): this dashboard is read-only.</p>` : ""}
<form method="post" action="/login">
<input type="hidden" name="next" value="${next}">
<label>Admin token <input type="password" name="token" autocomplete="current-password" required></label>
<button type="submit">Log in</button>
</form>`;
    message(req, res, caller, status, "Admin login", body);
  }

  async function login(req: IncomingMessage, res: ServerResponse, caller: Caller) {
    const form = await readForm(req);
    const next = safeNext(form?.get("next"));
    const given = form?.get("token") ?? "";
    if (adminToken === undefined || !sameSecret(given, adminToken)) {
      return loginForm(req, res, caller, next, 403, "That is not the admin token.");
    }
    res
      .writeHead(303, {
        location: next,
        "set-cookie": sessionCookie(adminToken, options.secureCookie ?? false),
      })
      .end();
  }

  function refuse(req: IncomingMessage, res: ServerResponse, caller: Caller) {
    const next = safeNext(refererPath(req));
    if (adminToken === undefined) {
      return message(
        req,
        res,
        caller,
        403,
        "Action refused",
        html`<p class="notice refused">No admin token is configured (<code>dashboard.adminToken</code>): this dashboard is read-only.</p>`,
      );
    }
    if (caller === "wrong") {
      return message(
        req,
        res,
        caller,
        403,
        "Action refused",
        html`<p class="notice refused">The credentials sent are not the admin token. Nothing was done.</p>`,
      );
    }
    message(
      req,
      res,
      caller,
      401,
      "Action refused",
      html`<p class="notice refused">Actions need the admin token. Nothing was done.</p><p><a href="/login?next=${encodeURIComponent(next)}">Log in as admin</a> and try again, or send <code>Authorization: Bearer …</code>.</p>`,
      { "www-authenticate": 'Bearer realm="hangar dashboard"' },
    );
  }

  async function action(req: IncomingMessage, res: ServerResponse, caller: Caller, name: ActionName) {
    if (caller !== "admin") return refuse(req, res, caller);
    const form = await readForm(req);
    if (form === undefined)
      return message(
        req,
        res,
        caller,
        413,
        "Action refused",
        html`<p class="notice refused">Form too large.</p>`,
      );
    const result = await runAction(
      {
        history: sources.history,
        ...(options.forge ? { forge: options.forge } : {}),
        ...(options.control ? { control: options.control } : {}),
      },
      name,
      form,
    );
    logger.info({ action: name, status: result.status, message: result.message }, "dashboard action");
    const done = result.status < 300;
    message(
      req,
      res,
      caller,
      result.status,
      done ? "Done" : "Action failed",
      html`<p class="notice${done ? "" : " refused"}">${result.message}</p><p><a href="/">Overview</a></p>`,
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    const path = url.pathname;
    const caller = identify(req, adminToken);
    const method = req.method ?? "GET";
    const reading = method === "GET" || method === "HEAD";

    if (path === "/healthz" && reading)
      return void res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    if (path === "/metrics" && reading) {
      const { contentType, body } = await metricsText();
      return void res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" }).end(body);
    }
    if (!reading) {
      const crossSite = crossSiteReason(req);
      if (crossSite !== undefined) {
        logger.warn({ path, method, reason: crossSite }, "dashboard: cross-site request refused");
        return message(
          req,
          res,
          caller,
          403,
          "Request refused",
          html`<p class="notice refused">Refused: ${crossSite}. Nothing was done.</p>`,
        );
      }
    }
    if (path === "/live" && method === "GET") return live(req, res, url);
    if (path === "/login" && reading)
      return loginForm(req, res, caller, safeNext(url.searchParams.get("next")));
    if (path === "/login" && method === "POST") return login(req, res, caller);
    if (path === "/logout" && method === "POST")
      return void res.writeHead(303, { location: "/", "set-cookie": clearedCookie() }).end();
    const actionName = ACTIONS.find((name) => path === `/actions/${name}`);
    if (actionName !== undefined) {
      if (method !== "POST")
        return message(req, res, caller, 405, "Use POST", html`<p>Actions are POST requests.</p>`, {
          allow: "POST",
        });
      return action(req, res, caller, actionName);
    }
    const pageRoute = route(path);
    if (pageRoute === undefined) return notFound(req, res, caller);
    if (!reading)
      return message(req, res, caller, 405, "Use GET", html`<p>Pages are read with GET.</p>`, {
        allow: "GET, HEAD",
      });
    return page(req, res, url, caller, pageRoute);
  }

  const listener: RequestListener = (req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: errorMessage(error), path: req.url }, "dashboard request failed");
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("internal error\n");
    });
  };
  return Object.assign(listener, {
    closeStreams: () => {
      for (const stop of [...streams]) stop();
    },
  });
}

/** Split `host:port` (or `[v6]:port`). */
/** How long requests in flight may take to finish when the dashboard stops. */
const CLOSE_GRACE_MS = 5000;

export async function startDashboard(
  options: DashboardOptions & { readonly listen: string },
): Promise<RunningDashboard> {
  const handler = createDashboardHandler(options);
  const server = createServer({ requestTimeout: 30_000 }, handler);
  const url = await listen(server, options.listen);
  options.logger.info({ url, admin: options.adminToken !== undefined }, "dashboard listening");
  return {
    url,
    close: () => {
      handler.closeStreams();
      return closeServer(server, CLOSE_GRACE_MS);
    },
  };
}
