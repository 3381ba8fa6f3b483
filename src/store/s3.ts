/**
 * The s3 store backend, for any S3-compatible object store (AWS, MinIO,
 * Ceph, s3rver in the tests) through the AWS SDK v3. Every put goes through
 * lib-storage's Upload: small bodies as one PutObject, large ones as a
 * multipart upload of bounded parts, so memory stays flat whatever the size
 * and each part is retried on its own. Downloads stream and resume where a
 * broken connection left them. S3 never shows a partial object, which is
 * the store's promise.
 */

import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ObjectCannedACL,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import {
  compareKeys,
  contentTypeFor,
  encodeKey,
  MAX_KEY_BYTES,
  validateKey,
  validatePrefix,
} from "./keys.js";
import { resumingStream } from "./s3/download.js";
import { type BucketLocation, parseBucketUrl } from "./s3/location.js";
import { BadKeyError, ObjectExistsError, type ObjectInfo, type PutOptions, type Store } from "./types.js";

export interface S3StoreOptions {
  /** Endpoint and bucket, optionally followed by a key prefix: `https://s3.example.com/bucket[/prefix]`. */
  readonly url: string;
  readonly region?: string;
  /** Without them, the SDK's default chain (environment, instance profile, ...) applies. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Bucket in the path (self-hosted servers) instead of in the host name (default true). */
  readonly pathStyle?: boolean;
  /** Canned ACL given to every object written. */
  readonly acl?: "private" | "public-read";
  /** Where browsers read the objects (a proxy, a CDN); default: the bucket URL itself. */
  readonly publicUrl?: string;
  /** Attempts per request, the SDK's own retries (default 5). */
  readonly maxAttempts?: number;
  /** Size of one part of a multipart upload (default 5 MiB, S3's minimum). */
  readonly partBytes?: number;
  /** Parts uploaded at once (default 2); memory use grows with partBytes times this. */
  readonly partsInFlight?: number;
}

const MiB = 1024 * 1024;

/** Waits before resuming a download that broke off; their count is the resumptions allowed in a row. */
const RESUME_DELAYS_MS = [200, 1000, 3000];

export async function openS3Store(options: S3StoreOptions): Promise<Store> {
  const location = parseBucketUrl(options.url, options.pathStyle ?? true);
  const client = new S3Client({
    endpoint: location.endpoint,
    region: options.region ?? "us-east-1",
    forcePathStyle: options.pathStyle ?? true,
    maxAttempts: options.maxAttempts ?? 5,
    retryMode: "standard",
    // Self-hosted S3 servers often know neither the newer checksum headers nor aws-chunked bodies.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
    ...(options.credentials
      ? {
          credentials: {
            accessKeyId: options.credentials.accessKeyId,
            secretAccessKey: options.credentials.secretAccessKey,
          },
        }
      : {}),
  });
  const publicBase = options.publicUrl
    ? options.publicUrl.endsWith("/")
      ? options.publicUrl
      : `${options.publicUrl}/`
    : location.publicBase;
  return new S3Store(client, location, publicBase, {
    ...(options.acl ? { acl: options.acl } : {}),
    partBytes: Math.max(5 * MiB, options.partBytes ?? 5 * MiB),
    partsInFlight: Math.max(1, options.partsInFlight ?? 2),
  });
}

interface WriteSettings {
  readonly acl?: ObjectCannedACL;
  readonly partBytes: number;
  readonly partsInFlight: number;
}

/** The SDK's error name and HTTP status, for telling "missing" and "exists" from real failures. */
function failure(error: unknown): { name: string; status: number | undefined } {
  if (typeof error !== "object" || error === null) return { name: "", status: undefined };
  const name = "name" in error && typeof error.name === "string" ? error.name : "";
  const metadata = "$metadata" in error ? (error.$metadata as { httpStatusCode?: number }) : undefined;
  return { name, status: metadata?.httpStatusCode };
}

function isMissing(error: unknown): boolean {
  const { name, status } = failure(error);
  return name === "NoSuchKey" || name === "NotFound" || status === 404;
}

/** What S3 answers a conditional write whose key exists (or is being written) already. */
function isExisting(error: unknown): boolean {
  const { name, status } = failure(error);
  return name === "PreconditionFailed" || name === "ConditionalRequestConflict" || status === 412;
}

/** Objects rewritten while a job runs: no cache may keep an old copy. */
function cacheControlFor(key: string): string | undefined {
  const segments = key.split("/");
  const name = segments.at(-1);
  if (name === "status.json" || name === "log.html" || segments.at(-2) === "log.chunks") return "no-cache";
  return undefined;
}

class S3Store implements Store {
  readonly driver = "s3";

  constructor(
    private readonly client: S3Client,
    private readonly location: BucketLocation,
    private readonly publicBase: string,
    private readonly settings: WriteSettings,
  ) {}

  async put(key: string, body: Buffer | string | Readable, options: PutOptions = {}): Promise<void> {
    const objectKey = this.objectKey(key);
    const overwrite = options.overwrite ?? true;
    if (!overwrite && (await this.exists(objectKey))) {
      // The body is ours to consume; a refused one is not read at all.
      if (body instanceof Readable) body.destroy();
      throw new ObjectExistsError(`store object ${JSON.stringify(key)} exists`);
    }
    const cacheControl = cacheControlFor(key);
    const upload = new Upload({
      client: this.client,
      partSize: this.settings.partBytes,
      queueSize: this.settings.partsInFlight,
      leavePartsOnError: false,
      params: {
        Bucket: this.location.bucket,
        Key: objectKey,
        Body: body,
        ContentType: options.contentType ?? contentTypeFor(key),
        ...(cacheControl ? { CacheControl: cacheControl } : {}),
        ...(this.settings.acl ? { ACL: this.settings.acl } : {}),
        // The check above is a courtesy for servers that ignore this; S3 itself enforces it atomically.
        ...(overwrite ? {} : { IfNoneMatch: "*" }),
      },
    });
    try {
      await upload.done();
    } catch (error) {
      if (!overwrite && isExisting(error))
        throw new ObjectExistsError(`store object ${JSON.stringify(key)} exists`);
      throw error;
    }
  }

  async get(key: string): Promise<Buffer | null> {
    const stream = await this.getStream(key);
    if (stream === null) return null;
    const parts: Buffer[] = [];
    for await (const part of stream) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }

  async getStream(key: string): Promise<Readable | null> {
    const objectKey = this.objectKey(key);
    let response: GetObjectCommandOutput;
    try {
      response = await this.client.send(
        new GetObjectCommand({ Bucket: this.location.bucket, Key: objectKey }),
      );
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    const body = response.Body;
    if (!(body instanceof Readable)) throw new Error(`S3 returned no stream for ${JSON.stringify(key)}`);
    const etag = response.ETag;
    return resumingStream(body, {
      size: response.ContentLength,
      delaysMs: RESUME_DELAYS_MS,
      reopen: async (offset) => {
        const rest = await this.client.send(
          new GetObjectCommand({
            Bucket: this.location.bucket,
            Key: objectKey,
            Range: `bytes=${offset}-`,
            ...(etag ? { IfMatch: etag } : {}),
          }),
        );
        if (!(rest.Body instanceof Readable))
          throw new Error(`S3 returned no stream for ${JSON.stringify(key)}`);
        return rest.Body;
      },
    });
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    validatePrefix(prefix);
    const found: ObjectInfo[] = [];
    const strip = this.location.prefix.length;
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.location.bucket,
          Prefix: this.location.prefix + prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        found.push({
          key: object.Key.slice(strip),
          size: object.Size ?? 0,
          modified: object.LastModified ?? new Date(0),
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return found.sort(compareKeys);
  }

  async delete(key: string): Promise<void> {
    const objectKey = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: objectKey }));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  url(key: string): string {
    return this.publicBase + encodeKey(validateKey(key));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    validateKey(key);
    const objectKey = this.location.prefix + key;
    if (Buffer.byteLength(objectKey) > MAX_KEY_BYTES)
      throw new BadKeyError(`bad store key ${JSON.stringify(key)}: with the bucket's prefix it is too long`);
    return objectKey;
  }

  private async exists(objectKey: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key: objectKey }));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }
}
