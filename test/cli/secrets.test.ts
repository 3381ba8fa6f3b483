/** `hangar secrets generate`, run as a child process; certificates checked with openssl itself. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { promisify } from "node:util";
import { GITHUB_TOKEN_PLACEHOLDER, SECRET_FILES } from "../../src/cli/commands/secrets.js";
import { hangar } from "./fixtures/run.js";

const openssl = async (args: string[]) => (await promisify(execFile)("openssl", args)).stdout;
const mode = (path: string) => statSync(path).mode & 0o777;
const KEYS = [SECRET_FILES.caKey, SECRET_FILES.serverKey, SECRET_FILES.clientKey];
const SECRETS = [SECRET_FILES.webhookSecret, SECRET_FILES.githubToken];
const CERTS = [SECRET_FILES.caCert, SECRET_FILES.serverCert, SECRET_FILES.clientCert];

describe("hangar secrets generate", () => {
  let parent: string;
  let dir: string;
  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), "hangar-secrets-test-"));
    dir = join(parent, "secrets");
  });
  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  test("writes every file with private modes, in a new 0700 directory, and prints a config snippet", async () => {
    const result = await hangar(["secrets", "generate", dir, "--hostname", "rabbit.example.com"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(mode(dir), 0o700);
    assert.deepEqual(readdirSync(dir).sort(), Object.values(SECRET_FILES).sort(), "no staging leftovers");
    for (const name of [...KEYS, ...SECRETS]) assert.equal(mode(join(dir, name)), 0o600, name);
    for (const name of CERTS) assert.equal(mode(join(dir, name)), 0o644, name);
    assert.match(result.stdout, /driver: amqp/);
    assert.match(result.stdout, /url: amqps:\/\/rabbit\.example\.com:5671/);
    assert.match(result.stdout, new RegExp(`cert: \\{ file: "${join(dir, SECRET_FILES.clientCert)}" \\}`));
    assert.match(result.stdout, /auth_mechanisms\.1 = EXTERNAL/);
    const secret = readFileSync(join(dir, SECRET_FILES.webhookSecret), "utf8").trim();
    assert.match(secret, /^[0-9a-f]{64}$/);
    assert.ok(!result.stdout.includes(secret), "the webhook secret is never printed");
    assert.equal(readFileSync(join(dir, SECRET_FILES.githubToken), "utf8").trim(), GITHUB_TOKEN_PLACEHOLDER);
  });

  test("the server and client certificates verify against the CA, with the right names and usages", async () => {
    const result = await hangar([
      "secrets",
      "generate",
      dir,
      "--hostname",
      "rabbit.example.com",
      "--hostname",
      "10.1.2.3",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const at = (name: string) => join(dir, name);
    const verified = await openssl([
      "verify",
      "-CAfile",
      at(SECRET_FILES.caCert),
      at(SECRET_FILES.serverCert),
      at(SECRET_FILES.clientCert),
    ]);
    assert.equal(verified, `${at(SECRET_FILES.serverCert)}: OK\n${at(SECRET_FILES.clientCert)}: OK\n`);
    await openssl([
      "verify",
      "-CAfile",
      at(SECRET_FILES.caCert),
      "-purpose",
      "sslserver",
      at(SECRET_FILES.serverCert),
    ]);
    await openssl([
      "verify",
      "-CAfile",
      at(SECRET_FILES.caCert),
      "-purpose",
      "sslclient",
      at(SECRET_FILES.clientCert),
    ]);
    await assert.rejects(
      openssl([
        "verify",
        "-CAfile",
        at(SECRET_FILES.caCert),
        "-purpose",
        "sslserver",
        at(SECRET_FILES.clientCert),
      ]),
      "the client certificate is not a server certificate",
    );
    const server = await openssl([
      "x509",
      "-in",
      at(SECRET_FILES.serverCert),
      "-noout",
      "-ext",
      "subjectAltName",
    ]);
    assert.match(
      server,
      /DNS:localhost, IP Address:127\.0\.0\.1, DNS:rabbit\.example\.com, IP Address:10\.1\.2\.3/,
    );
    const client = await openssl(["x509", "-in", at(SECRET_FILES.clientCert), "-noout", "-subject"]);
    assert.equal(client.trim(), "subject=CN = hangar");
    // Each key belongs to its certificate.
    for (const [key, cert] of [
      [SECRET_FILES.serverKey, SECRET_FILES.serverCert],
      [SECRET_FILES.clientKey, SECRET_FILES.clientCert],
    ] as const) {
      const fromKey = await openssl(["pkey", "-in", at(key), "-pubout"]);
      const fromCert = await openssl(["x509", "-in", at(cert), "-noout", "-pubkey"]);
      assert.equal(fromKey, fromCert, `${key} matches ${cert}`);
    }
  });

  test("--client-name sets the client certificate's common name", async () => {
    const result = await hangar(["secrets", "generate", dir, "--client-name", "worker-7"]);
    assert.equal(result.code, 0, result.stderr);
    const client = await openssl(["x509", "-in", join(dir, SECRET_FILES.clientCert), "-noout", "-subject"]);
    assert.equal(client.trim(), "subject=CN = worker-7");
  });

  test("refuses to overwrite an existing file, writing nothing, and names it", async () => {
    const first = await hangar(["secrets", "generate", dir]);
    assert.equal(first.code, 0, first.stderr);
    const before = Object.fromEntries(
      Object.values(SECRET_FILES).map((n) => [n, readFileSync(join(dir, n), "utf8")]),
    );
    const again = await hangar(["secrets", "generate", dir]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /refusing to overwrite .*ca\.key.*--force/);
    for (const [name, content] of Object.entries(before)) {
      assert.equal(readFileSync(join(dir, name), "utf8"), content, `${name} unchanged`);
    }
  });

  test("one existing file blocks all: none of the others is written", async () => {
    const existing = mkdtempSync(join(parent, "partial-"));
    writeFileSync(join(existing, SECRET_FILES.webhookSecret), "mine\n", { mode: 0o600 });
    const result = await hangar(["secrets", "generate", existing]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /refusing to overwrite webhook-secret/);
    assert.deepEqual(readdirSync(existing), [SECRET_FILES.webhookSecret]);
    assert.equal(readFileSync(join(existing, SECRET_FILES.webhookSecret), "utf8"), "mine\n");
  });

  test("--force replaces the files and says which", async () => {
    assert.equal((await hangar(["secrets", "generate", dir])).code, 0);
    const oldCa = readFileSync(join(dir, SECRET_FILES.caCert), "utf8");
    const oldSecret = readFileSync(join(dir, SECRET_FILES.webhookSecret), "utf8");
    const forced = await hangar(["secrets", "generate", dir, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /replaced: ca\.key, ca\.crt, .*github-token/);
    assert.notEqual(readFileSync(join(dir, SECRET_FILES.caCert), "utf8"), oldCa);
    assert.notEqual(readFileSync(join(dir, SECRET_FILES.webhookSecret), "utf8"), oldSecret);
    for (const name of [...KEYS, ...SECRETS]) assert.equal(mode(join(dir, name)), 0o600, name);
    assert.deepEqual(readdirSync(dir).sort(), Object.values(SECRET_FILES).sort());
    await openssl(["verify", "-CAfile", join(dir, SECRET_FILES.caCert), join(dir, SECRET_FILES.clientCert)]);
  });

  test("a bad host name is refused before anything is written", async () => {
    const result = await hangar(["secrets", "generate", dir, "--hostname", "bad,name"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /not a host name or IP address: "bad,name"/);
    assert.throws(() => statSync(dir), "the directory was not created");
  });
});
