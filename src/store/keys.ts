/**
 * Store keys: relative, slash-separated paths such as `pull-7-abcdef12/log`.
 * Every backend validates with these rules, so a key that works on one
 * works on all, and no key can name something outside the store.
 */
import { BadKeyError, type ObjectInfo } from "./types.js";

/** S3's own limit, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/** The usual file-name limit of Linux file systems, in UTF-8 bytes. */
export const MAX_SEGMENT_BYTES = 255;

/** C0 controls, DEL and C1 controls: never part of a sane key, and dangerous in logs and URLs. */
function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** Why key is not acceptable, or null when it is. */
export function keyProblem(key: string): string | null {
  if (key === "") return "is empty";
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `is longer than ${MAX_KEY_BYTES} bytes`;
  if (hasControlCharacter(key)) return "contains a control character";
  if (key.includes("\\")) return "contains a backslash";
  if (key.startsWith("/")) return "is absolute";
  for (const segment of key.split("/")) {
    if (segment === "") return "has an empty segment";
    if (segment === "." || segment === "..") return `has a '${segment}' segment`;
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES)
      return `has a segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  return null;
}

export function validateKey(key: string): string {
  const problem = keyProblem(key);
  if (problem !== null) throw new BadKeyError(`bad store key ${JSON.stringify(key)}: ${problem}`);
  return key;
}

/**
 * A list prefix may be empty, end in "/" or stop in the middle of a segment,
 * but must not be able to climb out of the store either.
 */
export function validatePrefix(prefix: string): string {
  if (prefix === "") return prefix;
  // A trailing slash or partial segment (even "." or "..", as in ".hidden") is fine:
  // check the prefix as if a name went on after it.
  const problem = keyProblem(`${prefix}x`);
  if (problem !== null) throw new BadKeyError(`bad store prefix ${JSON.stringify(prefix)}: ${problem}`);
  return prefix;
}

/** The key as a URL path: each segment percent-encoded, slashes kept. */
export function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  json: "application/json; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  log: "text/plain; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  xml: "application/xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
  webm: "video/webm",
  gz: "application/gzip",
  xz: "application/x-xz",
  zst: "application/zstd",
  tar: "application/x-tar",
};

/**
 * The content type a key is served with. A job's `log` and its chunks are
 * UTF-8 text; anything unknown is opaque bytes.
 */
export function contentTypeFor(key: string): string {
  const segments = key.split("/");
  const name = segments.at(-1) ?? "";
  if (name === "log" || segments.at(-2) === "log.chunks") return "text/plain; charset=utf-8";
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
  return TYPES[extension] ?? "application/octet-stream";
}

/** Listing order of every backend: byte order of the UTF-8 keys, as S3 lists them. */
export function compareKeys(a: ObjectInfo, b: ObjectInfo): number {
  return Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));
}
