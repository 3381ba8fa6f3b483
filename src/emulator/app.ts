/**
 * GitHub Apps in the emulator. An app is made the way GitHub's manifest flow ends
 * (POST /app-manifests/{code}/conversions answers its id and a freshly generated
 * private key); it counts as installed on every account. Its JWTs (RS256, signed
 * with that key) are verified with the public key and buy installation tokens,
 * which the API then accepts like the emulator's own token.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, verify } from "node:crypto";
import { HttpError, notFound, type Reply, type RequestContext, type Route, route } from "./http.js";
import { stableId } from "./payloads.js";
import { type EmulatorState, now } from "./state.js";

interface App {
  readonly id: number;
  readonly slug: string;
  readonly publicKey: KeyObject;
}

interface InstallationToken {
  readonly appId: number;
  readonly installationId: number;
  readonly account: string;
  readonly expiresAt: number;
}

const TOKEN_LIFETIME_MS = 60 * 60 * 1000;
/** GitHub refuses JWTs that live longer than ten minutes (plus a little clock drift). */
const MAX_JWT_LIFETIME_S = 10 * 60 + 60;

class AppRegistry {
  readonly apps = new Map<number, App>();
  readonly tokens = new Map<string, InstallationToken>();
  /** installation id -> app and account */
  readonly installations = new Map<number, { appId: number; account: string }>();

  installation(app: App, account: string): number {
    const id = stableId("installation", `${app.id}/${account}`);
    this.installations.set(id, { appId: app.id, account });
    return id;
  }
}

const registries = new WeakMap<EmulatorState, AppRegistry>();

function registry(state: EmulatorState): AppRegistry {
  let found = registries.get(state);
  if (found === undefined) {
    found = new AppRegistry();
    registries.set(state, found);
  }
  return found;
}

function credential(header: string | string[] | undefined): string | null {
  const match = /^(?:token|bearer)\s+(\S+)$/i.exec(typeof header === "string" ? header : "");
  return match?.[1] ?? null;
}

function decodePart(part: string | undefined): Record<string, unknown> | null {
  if (part === undefined) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The app a JWT was signed by, or null for anything else (bad signature, expired, not a JWT). */
export function verifyAppJwt(state: EmulatorState, jwt: string): App | null {
  const parts = jwt.split(".");
  if (parts.length !== 3) return null;
  const [headerPart, payloadPart, signature] = parts;
  const header = decodePart(headerPart);
  const payload = decodePart(payloadPart);
  if (header?.alg !== "RS256" || payload === null || signature === undefined) return null;
  const app = registry(state).apps.get(Number(payload.iss));
  if (app === undefined) return null;
  const signed = verify(
    "RSA-SHA256",
    Buffer.from(`${headerPart}.${payloadPart}`),
    app.publicKey,
    Buffer.from(signature, "base64url"),
  );
  const seconds = Date.now() / 1000;
  const { iat, exp } = payload;
  if (!signed || typeof iat !== "number" || typeof exp !== "number") return null;
  if (exp <= seconds || iat > seconds + 60 || exp - iat > MAX_JWT_LIFETIME_S) return null;
  return app;
}

/** The installation a token stands for, when it is a live installation token. */
export function installationOf(
  state: EmulatorState,
  header: string | string[] | undefined,
): InstallationToken | null {
  const token = credential(header);
  const found = token === null ? undefined : registry(state).tokens.get(token);
  return found !== undefined && found.expiresAt > Date.now() ? found : null;
}

/** Whether a request's credential is an app's: an installation token, or a valid JWT. */
export function isAppCredential(state: EmulatorState, header: string | string[] | undefined): boolean {
  if (installationOf(state, header) !== null) return true;
  const token = credential(header);
  return token !== null && verifyAppJwt(state, token) !== null;
}

function requireApp(state: EmulatorState, context: RequestContext): App {
  const token = credential(context.headers.authorization);
  const app = token === null ? null : verifyAppJwt(state, token);
  if (app === null) {
    throw new HttpError(401, "A JSON web token could not be decoded");
  }
  return app;
}

function installationJson(state: EmulatorState, app: App, id: number, account: string): unknown {
  const base = state.urls.api;
  return {
    id,
    app_id: app.id,
    app_slug: app.slug,
    account: { login: account, id: stableId("user", account), type: "Organization" },
    target_type: "Organization",
    repository_selection: "all",
    access_tokens_url: `${base}/app/installations/${id}/access_tokens`,
    permissions: {
      checks: "write",
      statuses: "write",
      contents: "read",
      pull_requests: "read",
      issues: "write",
    },
    events: ["pull_request", "status", "issue_comment", "check_run"],
  };
}

export function appRoutes(state: EmulatorState): Route[] {
  const apps = registry(state);
  const ok = (body: unknown, status = 200): Reply => ({ status, body });
  return [
    route("POST", /^\/app-manifests\/([^/]+)\/conversions$/, (context) => {
      const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const id = state.nextId();
      const slug = `hangar-app-${id}`;
      apps.apps.set(id, {
        id,
        slug,
        publicKey: createPublicKey(publicKey.export({ type: "spki", format: "pem" })),
      });
      return ok(
        {
          id,
          slug,
          name: slug,
          node_id: `A_${id}`,
          owner: { login: state.user },
          pem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
          webhook_secret: null,
          client_id: `Iv1.${context.params[0]}`,
          created_at: now(),
        },
        201,
      );
    }),

    route("GET", /^\/app$/, (context) => {
      const app = requireApp(state, context);
      return ok({ id: app.id, slug: app.slug, name: app.slug });
    }),

    route("GET", /^\/repos\/([^/]+)\/([^/]+)\/installation$/, (context) => {
      const app = requireApp(state, context);
      const repo = state.repos.get(`${context.params[0]}/${context.params[1]}`);
      if (repo === undefined) throw notFound();
      return ok(installationJson(state, app, apps.installation(app, repo.owner), repo.owner));
    }),

    route("GET", /^\/orgs\/([^/]+)\/installation$/, (context) => {
      const app = requireApp(state, context);
      const account = context.params[0] ?? "";
      return ok(installationJson(state, app, apps.installation(app, account), account));
    }),

    route("POST", /^\/app\/installations\/(\d+)\/access_tokens$/, (context) => {
      const app = requireApp(state, context);
      const installationId = Number(context.params[0]);
      const installation = apps.installations.get(installationId);
      if (installation === undefined || installation.appId !== app.id) throw notFound();
      const token = `ghs_${randomBytes(18).toString("base64url")}`;
      const expiresAt = Date.now() + TOKEN_LIFETIME_MS;
      apps.tokens.set(token, { appId: app.id, installationId, account: installation.account, expiresAt });
      return ok(
        {
          token,
          expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
          permissions: { checks: "write", statuses: "write", contents: "read" },
          repository_selection: "all",
        },
        201,
      );
    }),
  ];
}
