import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { ConfigError, parseConfig } from "../../src/config/index.js";
import { openConfiguredStore } from "../../src/store/from-config.js";
import { openStore } from "../../src/store/index.js";
import { parseBucketUrl } from "../../src/store/s3/location.js";
import type { Store } from "../../src/store/types.js";
import { storeConformance } from "./conformance.js";
import { S3RVER_CREDENTIALS, type S3Server, startS3rver } from "./s3rver.js";

let server: S3Server | undefined;
async function s3rver(): Promise<S3Server> {
  server ??= await startS3rver();
  return server;
}
after(() => server?.close());

async function s3Fixture() {
  const url = await (await s3rver()).bucket();
  const store = await openStore({ driver: "s3", url, credentials: S3RVER_CREDENTIALS });
  return { store, cleanup: async () => undefined };
}

// 200 MB through multipart takes a few seconds against s3rver here; HANGAR_S3_LARGE_BYTES lowers it.
storeConformance("s3 (s3rver)", s3Fixture, {
  largeObjectBytes: Number(process.env.HANGAR_S3_LARGE_BYTES ?? 200 * 1024 * 1024),
  atomicConcurrentPuts: false,
});

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** Between the store and s3rver: records requests, fails some with 503, cuts a download short. */
class FaultyProxy {
  readonly seen: Seen[] = [];
  failNext = 0;
  cutNextGetAfter: number | undefined;
  private readonly server: Server;

  constructor(target: URL) {
    this.server = createServer((req, res) => {
      this.seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
      if (this.failNext > 0) {
        this.failNext--;
        req.resume();
        res.writeHead(503, { "Content-Type": "application/xml" });
        res.end("<Error><Code>SlowDown</Code><Message>please retry</Message></Error>");
        return;
      }
      const cut = req.method === "GET" ? this.cutNextGetAfter : undefined;
      if (cut !== undefined) this.cutNextGetAfter = undefined;
      const upstream = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          if (cut === undefined) {
            answer.pipe(res);
            return;
          }
          let sent = 0;
          answer.on("data", (piece: Buffer) => {
            if (sent >= cut) return;
            res.write(piece.subarray(0, cut - sent));
            sent += piece.length;
            if (sent >= cut) {
              answer.destroy();
              res.destroy(); // the connection breaks mid-body
            }
          });
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    return closed;
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

describe("s3 store specifics", () => {
  let proxy: FaultyProxy;
  let store: Store;
  let bucketPath: string;
  const stores: Store[] = [];

  before(async () => {
    const bucketUrl = new URL(await (await s3rver()).bucket());
    proxy = new FaultyProxy(bucketUrl);
    bucketPath = bucketUrl.pathname;
    const url = `${await proxy.start()}${bucketPath}`;
    store = await openStore({ driver: "s3", url, credentials: S3RVER_CREDENTIALS, acl: "public-read" });
    stores.push(store);
  });
  after(async () => {
    for (const opened of stores) await opened.close();
    await proxy.close();
  });

  test("transient 503 answers are retried", async () => {
    proxy.failNext = 2;
    const before = proxy.seen.length;
    await store.put("retried/object", "made it");
    assert.equal(proxy.failNext, 0);
    assert.equal(proxy.seen.length - before, 3, "two refused attempts, then the one that worked");
    proxy.failNext = 1;
    assert.equal((await store.get("retried/object"))?.toString(), "made it");
  });

  test("a download cut off mid-way resumes where it broke, pinned to the same object", async () => {
    const data = Buffer.alloc(3 * 1024 * 1024);
    for (let index = 0; index < data.length; index += 4) data.writeUInt32BE(index, index);
    await store.put("images/cut.img", data);
    proxy.cutNextGetAfter = 1024 * 1024;
    const stream = await store.getStream("images/cut.img");
    assert.ok(stream !== null);
    assert.ok((await readAll(stream)).equals(data), "the whole object, no byte lost or repeated");
    const resumed = proxy.seen.filter((seen) => seen.method === "GET" && seen.headers.range !== undefined);
    assert.equal(resumed.length, 1);
    assert.match(String(resumed[0]?.headers.range), /^bytes=[1-9]\d*-$/);
    assert.ok(resumed[0]?.headers["if-match"], "the resumed request names the ETag");
  });

  test("large objects go up in parts; every write carries the ACL and a content type", async () => {
    const before = proxy.seen.length;
    const parts = Array.from({ length: 12 }, (_, index) => Buffer.alloc(1024 * 1024, index));
    await store.put("images/parts.img", Readable.from(parts));
    const requests = proxy.seen.slice(before);
    assert.ok(requests.some((seen) => seen.method === "POST" && seen.url.includes("uploads")));
    const uploadedParts = requests.filter(
      (seen) => seen.method === "PUT" && seen.url.includes("partNumber="),
    );
    assert.equal(uploadedParts.length, 3, "12 MiB in 5 MiB parts");
    assert.equal(requests.find((seen) => seen.method === "POST")?.headers["x-amz-acl"], "public-read");
    await store.put("job/log.html", "<!doctype html>");
    const page = proxy.seen.at(-1);
    assert.equal(page?.headers["x-amz-acl"], "public-read");
    assert.equal(page?.headers["content-type"], "text/html; charset=utf-8");
    assert.equal(page?.headers["cache-control"], "no-cache");
  });

  test("url() links the object for anonymous readers, with the right content type", async () => {
    await store.put("job-9/log.html", "<p>hi</p>");
    const response = await fetch(store.url("job-9/log.html"));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(await response.text(), "<p>hi</p>");
  });

  test("a key prefix in the URL keeps the store's objects under it; publicUrl replaces the link base", async () => {
    const { endpoint } = await s3rver();
    const base = `${endpoint}${bucketPath}`;
    const outside = await openStore({ driver: "s3", url: base, credentials: S3RVER_CREDENTIALS });
    const inside = await openStore({ driver: "s3", url: `${base}/ci/logs`, credentials: S3RVER_CREDENTIALS });
    const proxied = await openStore({
      driver: "s3",
      url: `${base}/ci/logs`,
      credentials: S3RVER_CREDENTIALS,
      publicUrl: "https://logs.example.org/hangar",
    });
    stores.push(outside, inside, proxied);
    await inside.put("pull 1/log", "inside");
    assert.equal((await outside.get("ci/logs/pull 1/log"))?.toString(), "inside");
    assert.deepEqual(
      (await inside.list("")).map((info) => info.key),
      ["pull 1/log"],
    );
    assert.equal(inside.url("pull 1/log"), `${base}/ci/logs/pull%201/log`);
    assert.equal(await (await fetch(inside.url("pull 1/log"))).text(), "inside");
    assert.equal(proxied.url("pull 1/log"), "https://logs.example.org/hangar/pull%201/log");
  });

  test("the bucket URL is parsed in path style and virtual-host style", () => {
    assert.deepEqual(parseBucketUrl("http://127.0.0.1:9000/bucket", true), {
      endpoint: "http://127.0.0.1:9000",
      bucket: "bucket",
      prefix: "",
      publicBase: "http://127.0.0.1:9000/bucket/",
    });
    assert.deepEqual(parseBucketUrl("https://logs.s3.eu-west-1.amazonaws.com/ci/", false), {
      endpoint: "https://s3.eu-west-1.amazonaws.com",
      bucket: "logs",
      prefix: "ci/",
      publicBase: "https://logs.s3.eu-west-1.amazonaws.com/ci/",
    });
    assert.throws(() => parseBucketUrl("https://s3.example.com/", true), /names no bucket/);
    assert.throws(() => parseBucketUrl("https://s3.example.com/b/a%0Ab", true), /bad key prefix/);
    assert.throws(() => parseBucketUrl("https://key:secret@s3.example.com/b", true), /credentials/);
  });

  test("store.driver s3 from the config: credentials from secrets, publicUrl for links", async () => {
    const { endpoint } = await s3rver();
    const config = (extra: Record<string, unknown>) =>
      parseConfig(
        {
          store: {
            driver: "s3",
            s3: {
              url: `${endpoint}${bucketPath}`,
              accessKeyId: { env: "TEST_S3_KEY" },
              secretAccessKey: { env: "TEST_S3_SECRET" },
              acl: "private",
              ...extra,
            },
            publicUrl: "https://logs.example.org/",
          },
        },
        "test.yaml",
        "/",
      );
    const env = { TEST_S3_KEY: "S3RVER", TEST_S3_SECRET: "S3RVER" };
    const configured = await openConfiguredStore(config({}), env, "http://ignored/");
    stores.push(configured);
    assert.equal(configured.driver, "s3");
    await configured.put("configured/object", "ok");
    assert.equal((await configured.get("configured/object"))?.toString(), "ok");
    assert.equal(configured.url("configured/object"), "https://logs.example.org/configured/object");
    await assert.rejects(openConfiguredStore(config({}), {}, "http://ignored/"), /TEST_S3_KEY is not set/);
    await assert.rejects(
      openConfiguredStore(config({ secretAccessKey: undefined }), env, "http://ignored/"),
      ConfigError,
    );
  });
});
