/**
 * `hangar secrets generate DIR`: a CA, RabbitMQ server and client certificates,
 * a webhook secret, a queue signing key and a placeholder GitHub token,
 * written all or nothing.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { CertificateError, DEFAULT_CLIENT_NAME, generateCertificates } from "../../config/certificates.js";
import { UsageError } from "../errors.js";

interface GenerateFlags {
  readonly force?: boolean;
  readonly hostname: string[];
  readonly clientName: string;
  readonly days?: string;
}

export interface SecretFile {
  readonly name: string;
  readonly mode: number;
  readonly content: string;
  readonly what: string;
}

const PRIVATE = 0o600;
const PUBLIC = 0o644;

/** Names of the files, so the snippet, the docs and the tests agree. */
export const SECRET_FILES = {
  caKey: "ca.key",
  caCert: "ca.crt",
  serverKey: "rabbitmq-server.key",
  serverCert: "rabbitmq-server.crt",
  clientKey: "client.key",
  clientCert: "client.crt",
  webhookSecret: "webhook-secret",
  signingKey: "signing-key",
  githubToken: "github-token",
} as const;

export const GITHUB_TOKEN_PLACEHOLDER = "PLACEHOLDER: replace this line with a GitHub token";

async function planFiles(flags: GenerateFlags): Promise<SecretFile[]> {
  const days = flags.days === undefined ? undefined : Number(flags.days);
  if (days !== undefined && !(Number.isInteger(days) && days > 0)) {
    throw new UsageError(`--days expects a positive whole number of days, got "${flags.days}"`);
  }
  let certs: Awaited<ReturnType<typeof generateCertificates>>;
  try {
    certs = await generateCertificates({
      hostnames: flags.hostname,
      clientName: flags.clientName,
      ...(days !== undefined ? { days } : {}),
    });
  } catch (error) {
    if (error instanceof CertificateError) throw new UsageError(error.message);
    throw error;
  }
  const f = SECRET_FILES;
  return [
    {
      name: f.caKey,
      mode: PRIVATE,
      content: certs.caKey,
      what: "CA private key: signs further certificates; keep offline",
    },
    {
      name: f.caCert,
      mode: PUBLIC,
      content: certs.caCert,
      what: "CA certificate: trusted by RabbitMQ and hangar",
    },
    { name: f.serverKey, mode: PRIVATE, content: certs.serverKey, what: "RabbitMQ server private key" },
    { name: f.serverCert, mode: PUBLIC, content: certs.serverCert, what: "RabbitMQ server certificate" },
    { name: f.clientKey, mode: PRIVATE, content: certs.clientKey, what: "hangar client private key" },
    {
      name: f.clientCert,
      mode: PUBLIC,
      content: certs.clientCert,
      what: `hangar client certificate (CN=${flags.clientName}, the RabbitMQ user)`,
    },
    {
      name: f.webhookSecret,
      mode: PRIVATE,
      content: `${randomBytes(32).toString("hex")}\n`,
      what: "webhook secret: also set it in GitHub's webhook settings",
    },
    {
      name: f.signingKey,
      mode: PRIVATE,
      content: `${randomBytes(32).toString("hex")}\n`,
      what: "queue signing key: scan signs task entries with it, workers check them (same on every host)",
    },
    {
      name: f.githubToken,
      mode: PRIVATE,
      content: `${GITHUB_TOKEN_PLACEHOLDER}\n`,
      what: "placeholder GitHub token: replace it",
    },
  ];
}

const exists = (path: string): boolean => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};

/**
 * Stage every file in a private temp dir inside DIR, then move them into
 * place: with `link` (fails if the target exists) unless replacing, and undo
 * the moves made so far if one fails.
 */
function writeAll(dir: string, files: readonly SecretFile[], replace: boolean): void {
  const staging = mkdtempSync(join(dir, ".hangar-secrets-"));
  const placed: string[] = [];
  try {
    for (const file of files) {
      const path = join(staging, file.name);
      writeFileSync(path, file.content, { mode: file.mode, flag: "wx" });
      chmodSync(path, file.mode);
    }
    for (const file of files) {
      const target = join(dir, file.name);
      if (replace) renameSync(join(staging, file.name), target);
      else {
        linkSync(join(staging, file.name), target);
        placed.push(target);
      }
    }
  } catch (error) {
    for (const target of placed) unlinkSync(target);
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new UsageError(`a file appeared in ${dir} while writing; nothing was written, try again`);
    }
    throw error;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function snippet(dir: string, flags: GenerateFlags): string {
  const host = flags.hostname[0] ?? "localhost";
  const at = (name: string) => JSON.stringify(join(dir, name));
  const f = SECRET_FILES;
  return `
Add to hangar.yaml:

webhook:
  secret: { file: ${at(f.webhookSecret)} }
forge:
  github:
    token: { file: ${at(f.githubToken)} }
queue:
  driver: amqp
  signingKey: { file: ${at(f.signingKey)} }
  amqp:
    url: amqps://${host}:5671
    tls:
      ca: { file: ${at(f.caCert)} }
      cert: { file: ${at(f.clientCert)} }
      key: { file: ${at(f.clientKey)} }

And to rabbitmq.conf:

listeners.ssl.default = 5671
ssl_options.cacertfile = ${join(dir, f.caCert)}
ssl_options.certfile = ${join(dir, f.serverCert)}
ssl_options.keyfile = ${join(dir, f.serverKey)}
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
auth_mechanisms.1 = EXTERNAL
ssl_cert_login_from = common_name

Then enable SASL EXTERNAL and create the user the client certificate logs in as
(its password is never used):

rabbitmq-plugins enable rabbitmq_auth_mechanism_ssl
rabbitmqctl add_user ${flags.clientName} "$(openssl rand -hex 24)"
rabbitmqctl clear_password ${flags.clientName}
rabbitmqctl set_permissions ${flags.clientName} '.*' '.*' '.*'
`;
}

async function generate(dirArgument: string, flags: GenerateFlags): Promise<void> {
  const dir = resolve(dirArgument);
  const created = !existsSync(dir);
  if (!created && !statSync(dir).isDirectory()) throw new UsageError(`${dir} exists and is not a directory`);
  const planned = Object.values(SECRET_FILES);
  const existing = created ? [] : planned.filter((name) => exists(join(dir, name)));
  if (existing.length > 0 && !flags.force) {
    throw new UsageError(
      `refusing to overwrite ${existing.join(", ")} in ${dir}; pass --force to replace them`,
    );
  }
  const files = await planFiles(flags);
  if (created) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
  try {
    writeAll(dir, files, flags.force === true);
  } catch (error) {
    // Only if still empty: never remove what someone else put there meanwhile.
    if (created) rmdirSync(dir);
    throw error;
  }
  const out: string[] = [`wrote ${dir}${created ? " (created, mode 0700)" : ""}:`];
  for (const file of files)
    out.push(`  ${file.name.padEnd(20)} ${file.mode.toString(8).padStart(4, "0")}  ${file.what}`);
  if (existing.length > 0) out.push(`replaced: ${existing.join(", ")}`);
  process.stdout.write(`${out.join("\n")}\n${snippet(dir, flags)}`);
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function register(program: Command): void {
  const secrets = program
    .command("secrets")
    .description("make the secrets and certificates a deployment needs");
  secrets
    .command("generate")
    .description(
      "write a CA, RabbitMQ server and client certificates, a webhook secret, a queue signing key and a placeholder GitHub token into DIR",
    )
    .argument("<dir>", "directory to write into (created with mode 0700 if missing)")
    .option("--force", "replace existing files (says which)")
    .option("--hostname <name>", "another DNS name or IP of the RabbitMQ server (repeatable)", collect, [])
    .option(
      "--client-name <name>",
      "common name of the client certificate: the RabbitMQ user",
      DEFAULT_CLIENT_NAME,
    )
    .option("--days <n>", "validity of the server and client certificates (default 825; the CA gets 3650)")
    .action((dir: string, flags: GenerateFlags) => generate(dir, flags));
}
