/**
 * Where a bucket is: `store.s3.url` names the endpoint and the bucket, and
 * may go on with a key prefix under which hangar keeps its objects.
 *
 *   path style:    https://s3.example.com/BUCKET[/PREFIX]
 *   virtual host:  https://BUCKET.s3.example.com[/PREFIX]
 */
import { keyProblem } from "../keys.js";

export interface BucketLocation {
  /** The S3 API endpoint, without the bucket. */
  readonly endpoint: string;
  readonly bucket: string;
  /** Prepended to every store key: "" or ending in "/". */
  readonly prefix: string;
  /** Where a browser reads the store's keys: the bucket URL plus the prefix, ending in "/". */
  readonly publicBase: string;
}

export function parseBucketUrl(url: string, pathStyle: boolean): BucketLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`store.s3.url is not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new Error(`store.s3.url must be http or https: ${JSON.stringify(url)}`);
  if (parsed.search !== "" || parsed.hash !== "" || parsed.username !== "" || parsed.password !== "")
    throw new Error("store.s3.url must have no query, fragment or credentials (credentials are secrets)");
  const segments = parsed.pathname
    .split("/")
    .filter((segment) => segment !== "")
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        throw new Error(`store.s3.url has a malformed path: ${JSON.stringify(url)}`);
      }
    });
  let bucket: string | undefined;
  let endpoint: string;
  if (pathStyle) {
    bucket = segments.shift();
    endpoint = parsed.origin;
  } else {
    const dot = parsed.hostname.indexOf(".");
    bucket = dot > 0 ? parsed.hostname.slice(0, dot) : undefined;
    endpoint = `${parsed.protocol}//${parsed.host.slice(dot + 1)}`;
  }
  if (bucket === undefined || bucket === "")
    throw new Error(
      pathStyle
        ? `store.s3.url names no bucket (expected https://host/BUCKET): ${url}`
        : `store.s3.url names no bucket (expected https://BUCKET.host): ${url}`,
    );
  const prefix = segments.length === 0 ? "" : `${segments.join("/")}/`;
  if (prefix !== "") {
    const problem = keyProblem(`${prefix}x`);
    if (problem !== null)
      throw new Error(`store.s3.url has a bad key prefix ${JSON.stringify(prefix)}: ${problem}`);
  }
  const bucketUrl = pathStyle ? `${parsed.origin}/${encodeURIComponent(bucket)}/` : `${parsed.origin}/`;
  const publicBase = bucketUrl + prefix.split("/").map(encodeURIComponent).join("/");
  return { endpoint, bucket, prefix, publicBase };
}
