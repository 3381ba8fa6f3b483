/** The control API over HTTP, under /_emulator/, so another process can drive the emulator. */
import { z } from "zod";
import { bodyObject, type Reply, type Route, route } from "./http.js";
import type { EmulatorControl } from "./types.js";

export const CONTROL_PREFIX = "/_emulator";

const files = z.record(
  z.string().min(1),
  z.union([
    z.string(),
    z.strictObject({ content: z.string(), executable: z.boolean().optional() }),
    z.null(),
  ]),
);
const association = z.enum([
  "OWNER",
  "MEMBER",
  "COLLABORATOR",
  "CONTRIBUTOR",
  "FIRST_TIME_CONTRIBUTOR",
  "FIRST_TIMER",
  "NONE",
]);

const createRepo = z.strictObject({
  repo: z.string(),
  files: files.optional(),
  defaultBranch: z.string().min(1).optional(),
  ownerType: z.enum(["User", "Organization"]).optional(),
  private: z.boolean().optional(),
  description: z.string().optional(),
  message: z.string().optional(),
});
const pushBranch = z.strictObject({
  branch: z.string().min(1),
  files,
  from: z.string().min(1).optional(),
  message: z.string().optional(),
  author: z.string().min(1).optional(),
});
const openPull = z.strictObject({
  files,
  title: z.string().optional(),
  body: z.string().optional(),
  author: z.string().min(1).optional(),
  labels: z.array(z.string()).optional(),
  base: z.string().min(1).optional(),
  branch: z.string().min(1).optional(),
  fork: z.string().min(1).optional(),
  message: z.string().optional(),
  draft: z.boolean().optional(),
  authorAssociation: association.optional(),
  deliver: z.boolean().optional(),
});
const pushToPull = z.strictObject({ files, message: z.string().optional(), deliver: z.boolean().optional() });
const closePull = z.strictObject({ deliver: z.boolean().optional() });
const addLabel = z.strictObject({ label: z.string().min(1), deliver: z.boolean().optional() });
const addComment = z.strictObject({
  author: z.string().min(1),
  body: z.string().min(1),
  deliver: z.boolean().optional(),
});
const deliver = z.strictObject({ event: z.string().min(1), payload: z.unknown() });
const webhook = z.strictObject({ url: z.url(), secret: z.string().min(1) }).nullable();
const members = z.strictObject({ members: z.array(z.string().min(1)) });
const fault = z.strictObject({
  method: z.string().optional(),
  path: z.string().min(1),
  regex: z.boolean().optional(),
  status: z.number().int().min(100).max(599).optional(),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  times: z.number().int().min(1).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
});

const REPO = `^${CONTROL_PREFIX}/repos/([^/]+)/([^/]+)`;

/** Removes keys whose value is undefined: zod output against exactOptionalPropertyTypes inputs. */
function defined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

export function controlRoutes(control: EmulatorControl, info: { url: string; cloneBase: string }): Route[] {
  const ok = (body: unknown, status = 200): Reply => ({ status, body });
  const none: Reply = { status: 204 };
  const repoName = (params: readonly string[]): string => `${params[0]}/${params[1]}`;
  return [
    route("GET", new RegExp(`^${CONTROL_PREFIX}/?$`), () => ok(info)),
    route("POST", new RegExp(`^${CONTROL_PREFIX}/repos$`), async ({ body }) =>
      ok(await control.createRepo(defined(createRepo.parse(bodyObject(body)))), 201),
    ),
    route("POST", new RegExp(`${REPO}/branches$`), async ({ body, params }) =>
      ok(
        await control.pushBranch({ ...defined(pushBranch.parse(bodyObject(body))), repo: repoName(params) }),
        201,
      ),
    ),
    route("POST", new RegExp(`${REPO}/pulls$`), async ({ body, params }) =>
      ok(
        await control.openPull({ ...defined(openPull.parse(bodyObject(body))), repo: repoName(params) }),
        201,
      ),
    ),
    route("POST", new RegExp(`${REPO}/pulls/(\\d+)/commits$`), async ({ body, params }) =>
      ok(
        await control.pushToPull({
          ...defined(pushToPull.parse(bodyObject(body))),
          repo: repoName(params),
          number: Number(params[2]),
        }),
        201,
      ),
    ),
    route("POST", new RegExp(`${REPO}/pulls/(\\d+)/close$`), async ({ body, params }) =>
      ok(
        await control.closePull({
          ...defined(closePull.parse(bodyObject(body))),
          repo: repoName(params),
          number: Number(params[2]),
        }),
      ),
    ),
    route("POST", new RegExp(`${REPO}/pulls/(\\d+)/labels$`), async ({ body, params }) =>
      ok(
        await control.addLabel({
          ...defined(addLabel.parse(bodyObject(body))),
          repo: repoName(params),
          number: Number(params[2]),
        }),
      ),
    ),
    route("POST", new RegExp(`${REPO}/issues/(\\d+)/comments$`), async ({ body, params }) =>
      ok(
        await control.addComment({
          ...defined(addComment.parse(bodyObject(body))),
          repo: repoName(params),
          number: Number(params[2]),
        }),
        201,
      ),
    ),
    route("GET", new RegExp(`${REPO}/statuses/([^/]+)$`), async ({ params }) =>
      ok(await control.statuses(repoName(params), params[2] ?? "")),
    ),
    route("PUT", new RegExp(`^${CONTROL_PREFIX}/orgs/([^/]+)/members$`), async ({ body, params }) => {
      await control.setOrgMembers(params[0] ?? "", members.parse(bodyObject(body)).members);
      return none;
    }),
    route("PUT", new RegExp(`^${CONTROL_PREFIX}/webhook$`), async ({ body }) => {
      await control.setWebhook(webhook.parse(body ?? null));
      return none;
    }),
    route("POST", new RegExp(`^${CONTROL_PREFIX}/deliveries$`), async ({ body }) => {
      const input = deliver.parse(bodyObject(body));
      return ok(await control.deliver(input.event, input.payload), 201);
    }),
    route("GET", new RegExp(`^${CONTROL_PREFIX}/deliveries$`), async () => ok(await control.deliveries())),
    route("GET", new RegExp(`^${CONTROL_PREFIX}/requests$`), async () => ok(await control.requests())),
    route("POST", new RegExp(`^${CONTROL_PREFIX}/faults$`), async ({ body }) => {
      await control.injectFault(defined(fault.parse(bodyObject(body))));
      return none;
    }),
    route("DELETE", new RegExp(`^${CONTROL_PREFIX}/faults$`), async () => {
      await control.clearFaults();
      return none;
    }),
    route("POST", new RegExp(`^${CONTROL_PREFIX}/idle$`), async () => {
      await control.idle();
      return none;
    }),
  ];
}
