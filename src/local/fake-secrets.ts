/**
 * Stand-ins for the deployment's secrets, named as the Secrets' keys are
 * (the file names of `hangar secrets generate`): random values, the token the
 * emulator (or a real PR's self-test) uses, and certificates for the private
 * RabbitMQ node. Nothing real can leak from a local run.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { CertificateSet } from "../config/certificates.js";

export interface FakeSecretValues {
  readonly webhookSecret: string;
  readonly githubToken: string;
  /** Only with the private RabbitMQ node. */
  readonly certificates?: CertificateSet;
}

export function randomSecret(): string {
  return randomBytes(20).toString("hex");
}

function fakeValue(name: string, values: FakeSecretValues): string {
  const certs = values.certificates;
  switch (name) {
    case "webhook-secret":
      return `${values.webhookSecret}\n`;
    case "github-token":
      return `${values.githubToken}\n`;
    case "ca.crt":
      return certs?.caCert ?? `${randomSecret()}\n`;
    case "client.crt":
      return certs?.clientCert ?? `${randomSecret()}\n`;
    case "client.key":
      return certs?.clientKey ?? `${randomSecret()}\n`;
    default:
      return `${randomSecret()}\n`;
  }
}

/** Write each of `paths` (relative to `dir`) with mode 0600. */
export function writeFakeSecrets(dir: string, paths: readonly string[], values: FakeSecretValues): void {
  for (const path of paths) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, fakeValue(basename(path), values), { mode: 0o600 });
  }
}
