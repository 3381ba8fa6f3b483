import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { openStore } from "../../src/store/index.js";
import { LOG_PAGE_HTML } from "../../src/store/log-page.js";
import { createStoreHandler, type StoreServer, startStoreServer } from "../../src/store/server.js";
import type { Store } from "../../src/store/types.js";
import { silentLogger } from "../../src/util/logger.js";

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A request with the path sent exactly as given (fetch would normalise "..", which is the point here). */
function raw(base: string, method: string, rawPath: string): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path: rawPath }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (part: Buffer) => parts.push(part));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const SECRET = "outside the store: must never be served";

describe("store HTTP server", () => {
  let root: string;
  let store: Store;
  let server: StoreServer;

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), "hangar-serve-"));
    const dir = path.join(root, "store");
    await writeFile(path.join(root, "secret.txt"), SECRET);
    store = await openStore({ driver: "fs", dir, publicUrl: "http://unused/" });
    await store.put("job/log.html", LOG_PAGE_HTML);
    await store.put("job/status.json", '{"state":"running"}');
    await store.put("job/log.chunks/000000", "chunk ✓\n");
    await store.put("job/log", "whole log ✓\n");
    await store.put("job/attachments/image.png", Buffer.from([137, 80, 78, 71]));
    await store.put("job/attachments/page.html", "<script>alert(1)</script>");
    await store.put("job/attachments/disk.qcow2", "QFI");
    await store.put("job/with space.txt", "spaced");
    server = await startStoreServer({ dir, listen: "127.0.0.1:0", logger: silentLogger() });
  });

  after(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  test("the URL names the bound port", () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:[1-9]\d*\/$/);
  });

  test("serves objects with their content types", async () => {
    const cases: [string, string, string | null][] = [
      ["job/log.html", "text/html; charset=utf-8", null],
      ["job/status.json", "application/json; charset=utf-8", "no-store"],
      ["job/log.chunks/000000", "text/plain; charset=utf-8", "no-store"],
      ["job/log", "text/plain; charset=utf-8", null],
      ["job/attachments/image.png", "image/png", null],
      ["job/attachments/disk.qcow2", "application/octet-stream", null],
      ["job/with%20space.txt", "text/plain; charset=utf-8", null],
    ];
    for (const [key, type, cache] of cases) {
      const response = await fetch(server.url + key);
      assert.equal(response.status, 200, key);
      assert.equal(response.headers.get("content-type"), type, key);
      assert.equal(response.headers.get("cache-control"), cache, key);
      await response.arrayBuffer();
    }
    assert.equal(await (await fetch(`${server.url}job/log`)).text(), "whole log ✓\n");
    assert.equal(await (await fetch(`${server.url}job/log.html`)).text(), LOG_PAGE_HTML);
    assert.equal(await (await fetch(`${server.url}job/status.json?t=1`)).text(), '{"state":"running"}');
  });

  test("the viewer page may run scripts; attachments are sandboxed", async () => {
    const page = await fetch(`${server.url}job/log.html`);
    assert.equal(page.headers.get("content-security-policy"), null);
    const attachment = await fetch(`${server.url}job/attachments/page.html`);
    assert.equal(attachment.headers.get("content-security-policy"), "sandbox");
    assert.equal(attachment.headers.get("x-content-type-options"), "nosniff");
  });

  test("HEAD gives the headers without a body", async () => {
    const reply = await raw(server.url, "HEAD", "/job/log");
    assert.equal(reply.status, 200);
    assert.equal(reply.headers["content-length"], String(Buffer.byteLength("whole log ✓\n")));
    assert.equal(reply.body, "");
  });

  test("missing objects, directories and the root are 404", async () => {
    for (const missing of ["/job/nothing", "/nope/log", "/job", "/job/", "/", "/job/log.chunks"]) {
      const reply = await raw(server.url, "GET", missing);
      assert.equal(reply.status, 404, missing);
    }
  });

  test("other methods are refused", async () => {
    const reply = await raw(server.url, "PUT", "/job/log");
    assert.equal(reply.status, 405);
    assert.equal(reply.headers.allow, "GET, HEAD");
    assert.equal((await store.get("job/log"))?.toString(), "whole log ✓\n");
  });

  test("paths that climb out of the store are refused", async () => {
    for (const attack of [
      "/../secret.txt",
      "/job/../../secret.txt",
      "/%2e%2e/secret.txt",
      "/job/..%2f..%2fsecret.txt",
      "/..%5csecret.txt",
      "/job/%00",
      "//secret.txt",
      "/%E0%A4%A",
    ]) {
      const reply = await raw(server.url, "GET", attack);
      assert.ok(reply.status === 400 || reply.status === 404, `${attack}: ${reply.status}`);
      assert.ok(!reply.body.includes(SECRET), attack);
    }
  });

  test("the handler mounts under a prefix on another server", async () => {
    const handle = createStoreHandler({ dir: path.join(root, "store"), prefix: "/logs/" });
    const other = createServer((req, res) => {
      if (handle(req, res)) return;
      res.writeHead(418).end("mine");
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    try {
      const base = `http://127.0.0.1:${(other.address() as AddressInfo).port}/`;
      assert.equal(await (await fetch(`${base}logs/job/log`)).text(), "whole log ✓\n");
      const elsewhere = await fetch(`${base}dashboard`);
      assert.equal(elsewhere.status, 418);
      assert.equal(await elsewhere.text(), "mine");
      assert.equal((await fetch(`${base}logs/job/missing`)).status, 404);
    } finally {
      other.closeAllConnections();
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  test("temporary files of uploads in progress are not served", async () => {
    const dir = path.join(root, "store", "job");
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, ".hangar-tmp-0123"), "partial");
    const reply = await raw(server.url, "GET", "/job/.hangar-tmp-0123");
    assert.notEqual(reply.status, 200);
    assert.ok(!reply.body.includes("partial"));
  });
});
