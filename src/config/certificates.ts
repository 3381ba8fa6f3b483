/**
 * A private certificate authority for RabbitMQ with client certificates:
 * a CA, a server certificate and a client certificate (whose common name is
 * the RabbitMQ user under SASL EXTERNAL), made with the `openssl` command.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface CertificateOptions {
  /** Extra DNS names or IP addresses of the RabbitMQ server (localhost and 127.0.0.1 are always in). */
  readonly hostnames?: readonly string[];
  /** Common name of the client certificate: the RabbitMQ user name. */
  readonly clientName?: string;
  /** Validity of the server and client certificates, in days (the CA gets ten years). */
  readonly days?: number;
  /** The openssl binary; `openssl` on PATH by default. */
  readonly openssl?: string;
}

/** PEM texts, keys unencrypted. */
export interface CertificateSet {
  readonly caKey: string;
  readonly caCert: string;
  readonly serverKey: string;
  readonly serverCert: string;
  readonly clientKey: string;
  readonly clientCert: string;
}

export const DEFAULT_CLIENT_NAME = "hangar";
const CA_DAYS = 3650;
const LEAF_DAYS = 825;

export class CertificateError extends Error {
  override readonly name = "CertificateError";
}

/** A hostname or IP literal fit for a subjectAltName; refuses anything openssl would misread. */
export function checkHostname(name: string): void {
  if (
    isIP(name) === 0 &&
    !/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(name)
  ) {
    throw new CertificateError(`not a host name or IP address: "${name}"`);
  }
}

export function subjectAltNames(hostnames: readonly string[]): string {
  const names = [...new Set(["localhost", "127.0.0.1", ...hostnames])];
  for (const name of names) checkHostname(name);
  return names.map((name) => (isIP(name) === 0 ? `DNS:${name}` : `IP:${name}`)).join(",");
}

function checkCommonName(name: string): void {
  // It becomes the RabbitMQ user name and goes into `-subj`, where / and = are syntax.
  if (!/^[\w.@-]{1,64}$/.test(name)) {
    throw new CertificateError(`client name must be 1-64 letters, digits, . _ @ -; got "${name}"`);
  }
}

const leafExtensions = (usage: "serverAuth" | "clientAuth", altNames?: string) =>
  [
    "basicConstraints = critical, CA:FALSE",
    "keyUsage = critical, digitalSignature",
    `extendedKeyUsage = ${usage}`,
    "subjectKeyIdentifier = hash",
    "authorityKeyIdentifier = keyid, issuer",
    ...(altNames ? [`subjectAltName = ${altNames}`] : []),
    "",
  ].join("\n");

// A config of our own, so the system's openssl.cnf cannot add or change extensions.
const REQ_CONFIG = [
  "[req]",
  "distinguished_name = dn",
  "prompt = no",
  "[dn]",
  "[ca_ext]",
  "basicConstraints = critical, CA:TRUE, pathlen:0",
  "keyUsage = critical, keyCertSign, cRLSign",
  "subjectKeyIdentifier = hash",
  "",
].join("\n");

// Random serials: unique per certificate without a serial file next to the CA.
const serial = () => `0x${randomBytes(16).toString("hex")}`;

export async function generateCertificates(options: CertificateOptions = {}): Promise<CertificateSet> {
  const clientName = options.clientName ?? DEFAULT_CLIENT_NAME;
  checkCommonName(clientName);
  const altNames = subjectAltNames(options.hostnames ?? []);
  const days = String(options.days ?? LEAF_DAYS);
  const openssl = options.openssl ?? "openssl";
  const work = await mkdtemp(join(tmpdir(), "hangar-certs-"));
  const path = (name: string) => join(work, name);
  const ssl = async (args: string[]) => {
    try {
      await run(openssl, args, { cwd: work });
    } catch (error) {
      const failure = error as NodeJS.ErrnoException & { stderr?: string };
      if (failure.code === "ENOENT")
        throw new CertificateError(`cannot run ${openssl}: not installed or not on PATH`);
      throw new CertificateError(
        `${openssl} ${args[0]} failed: ${failure.stderr?.trim() || failure.message}`,
      );
    }
  };
  const newKey = (name: string) =>
    ssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path(name)]);
  const signLeaf = async (name: string, commonName: string, extensions: string) => {
    await newKey(`${name}.key`);
    await writeFile(path(`${name}.ext`), extensions);
    await ssl([
      "req",
      "-new",
      "-config",
      path("req.cnf"),
      "-key",
      path(`${name}.key`),
      "-subj",
      `/CN=${commonName}`,
      "-out",
      path(`${name}.csr`),
    ]);
    await ssl([
      "x509",
      "-req",
      "-in",
      path(`${name}.csr`),
      "-CA",
      path("ca.crt"),
      "-CAkey",
      path("ca.key"),
      "-set_serial",
      serial(),
      "-days",
      days,
      "-sha256",
      "-extfile",
      path(`${name}.ext`),
      "-out",
      path(`${name}.crt`),
    ]);
  };
  try {
    await writeFile(path("req.cnf"), REQ_CONFIG);
    await newKey("ca.key");
    await ssl([
      "req",
      "-x509",
      "-new",
      "-config",
      path("req.cnf"),
      "-extensions",
      "ca_ext",
      "-key",
      path("ca.key"),
      "-subj",
      "/CN=hangar CA",
      "-set_serial",
      serial(),
      "-days",
      String(CA_DAYS),
      "-sha256",
      "-out",
      path("ca.crt"),
    ]);
    await signLeaf("server", "localhost", leafExtensions("serverAuth", altNames));
    await signLeaf("client", clientName, leafExtensions("clientAuth"));
    const read = (name: string) => readFile(path(name), "utf8");
    return {
      caKey: await read("ca.key"),
      caCert: await read("ca.crt"),
      serverKey: await read("server.key"),
      serverCert: await read("server.crt"),
      clientKey: await read("client.key"),
      clientCert: await read("client.crt"),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
