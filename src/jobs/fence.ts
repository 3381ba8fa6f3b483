/**
 * Markers in the store that every worker on every host can read: which
 * attempts of a job were retired (a newer attempt replaced them) and which
 * jobs are done. A worker checks them before it runs an entry and before it
 * posts a result, so a stale or duplicate entry never runs or reports twice.
 *
 *   hangar-jobs/<slug>/retired-<attempt>   written before the next attempt is queued
 *   hangar-jobs/<slug>/done                written once the final status is posted
 */
import type { Store } from "../store/types.js";

const PREFIX = "hangar-jobs";

function folder(slug: string): string {
  return `${PREFIX}/${slug.replace(/[^\w.-]+/g, "-").slice(0, 200)}`;
}

export const retiredKey = (slug: string, attempt: number): string => `${folder(slug)}/retired-${attempt}`;
export const doneKey = (slug: string): string => `${folder(slug)}/done`;

export async function isRetired(store: Store, slug: string, attempt: number): Promise<boolean> {
  return (await store.get(retiredKey(slug, attempt))) !== null;
}

export async function retire(store: Store, slug: string, attempt: number, reason: string): Promise<void> {
  await store.put(
    retiredKey(slug, attempt),
    `${JSON.stringify({ reason, at: new Date().toISOString() })}\n`,
    {
      contentType: "application/json",
    },
  );
}

export async function isDone(store: Store, slug: string): Promise<boolean> {
  return (await store.get(doneKey(slug))) !== null;
}

export async function markDone(
  store: Store,
  slug: string,
  info: { attempt: number; state: string; description: string },
): Promise<void> {
  await store.put(doneKey(slug), `${JSON.stringify({ ...info, at: new Date().toISOString() })}\n`, {
    contentType: "application/json",
  });
}
