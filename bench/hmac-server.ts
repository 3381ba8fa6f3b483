/**
 * The reference for the webhook rows: a bare Node HTTP server that reads the
 * body, checks its X-Hub-Signature-256 and answers 202, with nothing stored.
 * Usage: node hmac-server.js SECRET. Prints {"url": ...} on stdout once
 * listening; exits 0 on SIGTERM.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

const secret = process.argv[2];
if (secret === undefined) {
  process.stderr.write("usage: hmac-server.js SECRET\n");
  process.exit(2);
}

const server = createServer((req, res) => {
  const hmac = createHmac("sha256", secret);
  req.on("data", (chunk: Buffer) => hmac.update(chunk));
  req.on("end", () => {
    const expected = Buffer.from(`sha256=${hmac.digest("hex")}`, "latin1");
    const given = Buffer.from(String(req.headers["x-hub-signature-256"] ?? ""), "latin1");
    const valid = given.length === expected.length && timingSafeEqual(given, expected);
    const body = valid ? '{"queued":true}' : '{"error":"invalid X-Hub-Signature-256"}';
    res.writeHead(valid ? 202 : 401, { "content-type": "application/json", "content-length": body.length });
    res.end(body);
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}/` })}\n`);
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
