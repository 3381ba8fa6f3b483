/**
 * A webhook's recent deliveries, and asking GitHub to send one again. GitHub
 * never redelivers a failed delivery by itself; reconciliation does it here.
 */
import type { Octokit } from "@octokit/rest";

/** A repository's webhook or an organization's. */
export type HookTarget =
  | { readonly repo: string; readonly id: number }
  | { readonly org: string; readonly id: number };

export interface HookDelivery {
  /** The id of this attempt, for redelivery. */
  readonly id: number;
  /** The X-GitHub-Delivery GUID; redeliveries of one delivery share it. */
  readonly guid: string;
  readonly deliveredAt: string;
  readonly redelivery: boolean;
  /** The receiver's HTTP status; 0 when none came (timeout, refused connection). */
  readonly statusCode: number;
  readonly event: string;
  readonly action: string | null;
}

export interface HookDeliveries {
  /** Attempts delivered at or after `since`, newest first. */
  listHookDeliveries(hook: HookTarget, since: Date): Promise<HookDelivery[]>;
  redeliver(hook: HookTarget, attemptId: number): Promise<void>;
}

const PAGE_SIZE = 100;
/** Reading stops after this many pages, even if `since` lies further back. */
const MAX_PAGES = 20;

export function hookPath(hook: HookTarget): string {
  const enc = encodeURIComponent;
  if ("repo" in hook) {
    const [owner = "", name = ""] = hook.repo.split("/");
    return `/repos/${enc(owner)}/${enc(name)}/hooks/${hook.id}`;
  }
  return `/orgs/${enc(hook.org)}/hooks/${hook.id}`;
}

interface RawDelivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  status_code: number;
  event: string;
  action: string | null;
}

export async function listHookDeliveries(
  octokit: Octokit,
  hook: HookTarget,
  since: Date,
): Promise<HookDelivery[]> {
  const found: HookDelivery[] = [];
  let pages = 0;
  const iterator = octokit.paginate.iterator(`GET ${hookPath(hook)}/deliveries`, { per_page: PAGE_SIZE });
  for await (const response of iterator) {
    const items = response.data as unknown as RawDelivery[];
    let older = false;
    for (const item of items) {
      if (Date.parse(item.delivered_at) < since.getTime()) {
        older = true;
        continue;
      }
      found.push({
        id: item.id,
        guid: item.guid,
        deliveredAt: item.delivered_at,
        redelivery: item.redelivery,
        statusCode: item.status_code,
        event: item.event,
        action: item.action ?? null,
      });
    }
    pages += 1;
    if (older || pages >= MAX_PAGES) break;
  }
  return found;
}

export async function redeliver(octokit: Octokit, hook: HookTarget, attemptId: number): Promise<void> {
  await octokit.request(`POST ${hookPath(hook)}/deliveries/${attemptId}/attempts`);
}

/** Deliveries none of whose attempts got a 2xx: the newest attempt of each, newest first. */
export function failedDeliveries(attempts: readonly HookDelivery[]): HookDelivery[] {
  const byGuid = new Map<string, HookDelivery[]>();
  for (const attempt of attempts) byGuid.set(attempt.guid, [...(byGuid.get(attempt.guid) ?? []), attempt]);
  const failed: HookDelivery[] = [];
  for (const group of byGuid.values()) {
    if (group.some((attempt) => attempt.statusCode >= 200 && attempt.statusCode < 300)) continue;
    const newest = group.reduce((a, b) =>
      Date.parse(b.deliveredAt) > Date.parse(a.deliveredAt) ||
      (b.deliveredAt === a.deliveredAt && b.id > a.id)
        ? b
        : a,
    );
    failed.push(newest);
  }
  return failed.sort((a, b) => Date.parse(b.deliveredAt) - Date.parse(a.deliveredAt) || b.id - a.id);
}
