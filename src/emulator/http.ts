/** HTTP plumbing of the emulator: routes, bodies, GitHub-style errors, pagination, faults. */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { FaultRule } from "./types.js";

export interface RequestContext {
  readonly method: string;
  readonly url: URL;
  readonly params: readonly string[];
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

export interface Reply {
  readonly status: number;
  /** JSON unless `raw` is set. */
  readonly body?: unknown;
  readonly raw?: { readonly data: string | Buffer; readonly contentType: string };
  readonly headers?: Readonly<Record<string, string>>;
}

export type Handler = (context: RequestContext) => Promise<Reply> | Reply;

export interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handler: Handler;
}

export function route(method: string, pattern: RegExp, handler: Handler): Route {
  return { method, pattern, handler };
}

/** The route for a method and path, with the path's captured (decoded) parts. */
export function matchRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: string[] } | null {
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const match = candidate.pattern.exec(path);
    if (match)
      return { route: candidate, params: match.slice(1).map((part) => decodeURIComponent(part ?? "")) };
  }
  return null;
}

const DOCS = "https://docs.github.com/rest";

/** An answer in GitHub's error shape, thrown from handlers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: readonly unknown[],
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

export function errorBody(status: number, message: string, errors?: readonly unknown[]): unknown {
  return {
    message,
    ...(errors === undefined ? {} : { errors }),
    documentation_url: DOCS,
    status: String(status),
  };
}

export const notFound = (): HttpError => new HttpError(404, "Not Found");

export function validationFailed(resource: string, field: string, message: string): HttpError {
  return new HttpError(422, "Validation Failed", [{ resource, code: "custom", field, message }]);
}

export async function readBody(request: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, "Payload too large");
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, "Problems parsing JSON");
  }
}

/** The request body as an object; GitHub answers 400 for anything else. */
export function bodyObject(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new HttpError(400, "Problems parsing JSON");
  return body as Record<string, unknown>;
}

export interface Page<T> {
  readonly items: T[];
  readonly headers: Record<string, string>;
}

/** One page of `items` per `per_page` (default 30, at most 100) and `page`, with GitHub's Link header. */
export function paginate<T>(url: URL, items: readonly T[]): Page<T> {
  const perPage = Math.min(Math.max(Number(url.searchParams.get("per_page")) || 30, 1), 100);
  const page = Math.max(Number(url.searchParams.get("page")) || 1, 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const link = (n: number, rel: string): string => {
    const target = new URL(url);
    target.searchParams.set("per_page", String(perPage));
    target.searchParams.set("page", String(n));
    return `<${target.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page < last) links.push(link(page + 1, "next"), link(last, "last"));
  if (page > 1) links.push(link(1, "first"), link(page - 1, "prev"));
  return {
    items: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length > 0 ? { link: links.join(", ") } : {},
  };
}

/** Fault rules with what is left of their count. */
export class Faults {
  private readonly rules: { rule: FaultRule; matches: (path: string) => boolean; left: number }[] = [];

  add(rule: FaultRule): void {
    if (rule.status === undefined && rule.delayMs === undefined)
      throw new Error("a fault needs a status, a delayMs, or both");
    if (
      rule.status !== undefined &&
      (!Number.isInteger(rule.status) || rule.status < 100 || rule.status > 599)
    )
      throw new Error(`invalid fault status ${rule.status}`);
    if (rule.delayMs !== undefined && (!Number.isFinite(rule.delayMs) || rule.delayMs < 0))
      throw new Error(`invalid fault delay ${rule.delayMs}`);
    const pattern = rule.regex ? new RegExp(rule.path) : globPattern(rule.path);
    this.rules.push({ rule, matches: (path) => pattern.test(path), left: rule.times ?? 1 });
  }

  clear(): void {
    this.rules.length = 0;
  }

  /** The fault to answer this request with, counting it used; undefined when none applies. */
  take(method: string, path: string): FaultRule | undefined {
    const index = this.rules.findIndex(
      (entry) =>
        (entry.rule.method === undefined || entry.rule.method.toUpperCase() === method) &&
        entry.matches(path),
    );
    const entry = this.rules[index];
    if (entry === undefined) return undefined;
    entry.left -= 1;
    if (entry.left <= 0) this.rules.splice(index, 1);
    return entry.rule;
  }
}

function globPattern(glob: string): RegExp {
  const source = glob
    .split("**")
    .map((part) =>
      part
        .split("*")
        .map((text) => text.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^/]*"),
    )
    .join(".*");
  return new RegExp(`^${source}$`);
}
