/**
 * The store interface every backend (fs, s3) implements: flat keys like
 * `pull-7-abcdef12-.../log`, objects written whole (no partial objects are
 * ever visible), public URLs for status links.
 */
import type { Readable } from "node:stream";

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly modified: Date;
}

export interface PutOptions {
  readonly contentType?: string;
  /** false: fail with ObjectExistsError if the key exists (default true). */
  readonly overwrite?: boolean;
}

export interface Store {
  readonly driver: "fs" | "s3";
  put(key: string, body: Buffer | string | Readable, options?: PutOptions): Promise<void>;
  /** The whole object, or null when there is none. */
  get(key: string): Promise<Buffer | null>;
  /** The object as a stream (for large objects), or null when there is none. */
  getStream(key: string): Promise<Readable | null>;
  /** Objects whose key starts with prefix, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Remove an object; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Where a reader (browser, GitHub status link) finds the object. */
  url(key: string): string;
  close(): Promise<void>;
}

export class BadKeyError extends Error {
  override readonly name = "BadKeyError";
}

export class ObjectExistsError extends Error {
  override readonly name = "ObjectExistsError";
}
