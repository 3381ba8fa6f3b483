/**
 * Serves an fs store directory read-only over HTTP: the status links of
 * embedded deployments point here. GET and HEAD only, no directory listings,
 * and every path is checked as a store key, so nothing outside the
 * directory (and no temporary file) can be named.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { errorMessage } from "../util/errors.js";
import { closeServer, listen } from "../util/http-server.js";
import type { Logger } from "../util/logger.js";
import { TEMP_PREFIX } from "./fs.js";
import { contentTypeFor, keyProblem } from "./keys.js";

export interface StoreHandlerOptions {
  readonly dir: string;
  /** URL path the store is mounted under, starting and ending with "/" (default "/"). */
  readonly prefix?: string;
  readonly logger?: Logger;
}

export interface StoreServer {
  /** Base URL, ending in "/". */
  readonly url: string;
  close(): Promise<void>;
}

/** Objects that change while a job runs: a reader must always get the current one. */
function uncacheable(key: string): boolean {
  const segments = key.split("/");
  return segments.at(-1) === "status.json" || segments.at(-2) === "log.chunks";
}

/** The viewer page needs its scripts; everything else (test attachments) is sandboxed. */
function isViewerPage(key: string): boolean {
  return key.endsWith("/log.html") && !key.split("/").includes("attachments");
}

/** The store key a URL path names, or null when it names none (or is malformed). */
function keyOf(urlPath: string, prefix: string): string | null {
  const pathname = urlPath.split(/[?#]/, 1)[0] ?? "";
  if (!pathname.startsWith(prefix)) return null;
  const segments: string[] = [];
  for (const raw of pathname.slice(prefix.length).split("/")) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    // An encoded slash would smuggle a second segment (and a "..") past the checks.
    if (segment.includes("/") || segment.startsWith(TEMP_PREFIX)) return null;
    segments.push(segment);
  }
  const key = segments.join("/");
  return keyProblem(key) === null ? key : null;
}

function send(res: ServerResponse, code: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, {
    "Content-Type": "text/plain; charset=utf-8",
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : `${text}\n`);
}

/**
 * A request handler for mounting the store on any node:http server. Returns
 * false, without touching res, for paths outside prefix; handles (and
 * answers) everything under it.
 */
export function createStoreHandler(
  options: StoreHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const root = path.resolve(options.dir);
  const prefix = options.prefix ?? "/";
  if (!prefix.startsWith("/") || !prefix.endsWith("/"))
    throw new Error(`store prefix must start and end with "/": ${prefix}`);
  const logger = options.logger;

  async function serve(req: IncomingMessage, res: ServerResponse, key: string): Promise<void> {
    const file = path.join(root, ...key.split("/"));
    if (!file.startsWith(root + path.sep)) return send(res, 404, "not found");
    let size: number;
    let modified: Date;
    try {
      const stats = await stat(file);
      if (!stats.isFile()) return send(res, 404, "not found");
      size = stats.size;
      modified = stats.mtime;
    } catch {
      return send(res, 404, "not found");
    }
    const headers: Record<string, string> = {
      "Content-Type": contentTypeFor(key),
      "Content-Length": String(size),
      "Last-Modified": modified.toUTCString(),
      "X-Content-Type-Options": "nosniff",
    };
    if (uncacheable(key)) headers["Cache-Control"] = "no-store";
    if (!isViewerPage(key)) headers["Content-Security-Policy"] = "sandbox";
    if (req.method === "HEAD") {
      res.writeHead(200, headers);
      res.end();
      return;
    }
    const stream = createReadStream(file);
    // Open before answering, so a file deleted since stat() still gets a clean 404.
    const opened = await new Promise<boolean>((resolve) => {
      stream.once("open", () => resolve(true));
      stream.once("error", () => resolve(false));
    });
    if (!opened) return send(res, 404, "not found");
    res.writeHead(200, headers);
    // A reader that goes away mid-download is no error of ours.
    await pipeline(stream, res).catch(() => res.destroy());
  }

  return (req, res) => {
    const url = req.url ?? "/";
    if (!url.startsWith(prefix)) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "method not allowed", { Allow: "GET, HEAD" });
      return true;
    }
    const key = keyOf(url, prefix);
    if (key === null) {
      // No listings of the root or of "directories"; anything else unnamable is a bad request.
      const pathname = url.split(/[?#]/, 1)[0] ?? "";
      if (pathname.endsWith("/")) send(res, 404, "not found");
      else send(res, 400, "bad path");
      return true;
    }
    serve(req, res, key).catch((error: unknown) => {
      logger?.warn({ key, err: errorMessage(error) }, "store request failed");
      if (!res.headersSent) send(res, 500, "internal error");
      else res.destroy();
    });
    return true;
  };
}

/** Serve dir at listen ("host:port"; port 0 picks a free one). */
export async function startStoreServer(options: {
  readonly dir: string;
  readonly listen: string;
  readonly logger: Logger;
}): Promise<StoreServer> {
  const handle = createStoreHandler({ dir: options.dir, logger: options.logger });
  const server = createServer((req, res) => {
    if (!handle(req, res)) send(res, 404, "not found");
  });
  const url = await listen(server, options.listen);
  options.logger.info({ url, dir: options.dir }, "store server listening");
  return {
    url,
    close: () => closeServer(server, 0),
  };
}
