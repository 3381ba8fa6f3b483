/**
 * Who may act: the holder of the admin token, sent as `Authorization: Bearer
 * TOKEN` or proven once by the login form, which sets a cookie. The cookie
 * holds an HMAC derived from the token, never the token itself. Every
 * comparison runs in constant time.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const SESSION_COOKIE = "hangar_admin";

/** anonymous: no credentials; wrong: credentials that do not match; admin: the token's holder. */
export type Caller = "anonymous" | "wrong" | "admin";

/** Equal-length digests first, so neither length nor content leaks through timing. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

export function sessionValue(token: string): string {
  return createHmac("sha256", token).update("hangar dashboard session v1").digest("base64url");
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function identify(req: IncomingMessage, token: string | undefined): Caller {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const bearer = /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim();
    if (token === undefined || bearer === undefined) return "wrong";
    return sameSecret(bearer, token) ? "admin" : "wrong";
  }
  const cookie = readCookie(req, SESSION_COOKIE);
  if (cookie === undefined || token === undefined) return "anonymous";
  return sameSecret(cookie, sessionValue(token)) ? "admin" : "anonymous";
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

export function clearedCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/** Any origin: only whether a path stays on it matters. */
const SOME_ORIGIN = "http://dashboard.invalid";

/**
 * Only a path on this site. `next` is resolved as a browser would resolve a
 * Location (which drops tabs and newlines, reads `\` as `/`, normalizes dot
 * segments): `//evil`, `/\evil`, `/\t/evil`, `/.//evil` and absolute URLs all
 * lead away and give `/`. What is returned is the resolved path itself, so
 * the browser has nothing left to reinterpret.
 */
export function safeNext(next: string | null | undefined): string {
  if (typeof next !== "string" || !next.startsWith("/")) return "/";
  let url: URL;
  try {
    url = new URL(next, SOME_ORIGIN);
  } catch {
    return "/";
  }
  if (url.origin !== SOME_ORIGIN) return "/";
  const path = `${url.pathname}${url.search}${url.hash}`;
  return path.startsWith("/") && !path.startsWith("//") ? path : "/";
}

/**
 * Why a state-changing request must be refused as cross-site, or undefined
 * when it comes from the dashboard's own pages (or from no browser at all: a
 * CLI with a bearer token sends neither header). The login cookie is
 * SameSite=Strict, but another site on the same host (another port, a
 * sibling subdomain) is same-site, so the browser's Sec-Fetch-Site and Origin
 * decide. The Host (or X-Forwarded-Host, behind a proxy) is what this
 * dashboard is called; a page elsewhere cannot set either header on a form
 * POST.
 */
export function crossSiteReason(req: IncomingMessage): string | undefined {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    return `the request came from another site (Sec-Fetch-Site: ${site})`;
  }
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return "the request's Origin is not a URL";
  }
  const forwarded = req.headers["x-forwarded-host"];
  const names = [
    req.headers.host,
    typeof forwarded === "string" ? forwarded.split(",")[0]?.trim() : undefined,
  ];
  if (host === "" || !names.includes(host)) return "the request came from another origin";
  return undefined;
}
