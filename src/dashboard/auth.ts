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

/** Only a path on this site: `next=//evil.example` or an absolute URL must not redirect away. */
export function safeNext(next: string | null | undefined): string {
  return next?.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}
