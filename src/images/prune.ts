/** `hangar image prune`: remove image objects the index does not name. */
import type { ObjectInfo, Store } from "../store/types.js";
import { readIndex } from "./catalog.js";
import { IMAGE_PREFIX, INDEX_KEY, objectKey } from "./names.js";

/** An upload writes its object before the index entry; younger objects are left for it. */
export const DEFAULT_MIN_AGE_MS = 60 * 60 * 1000;

export interface PruneOptions {
  readonly dryRun?: boolean;
  /** Keep unnamed objects younger than this (default one hour). */
  readonly minAgeMs?: number;
  readonly now?: Date;
}

export interface PruneResult {
  /** Removed (or, with dryRun, to be removed). */
  readonly unreferenced: readonly ObjectInfo[];
  /** Unreferenced but too young to remove. */
  readonly young: readonly ObjectInfo[];
}

export async function pruneImages(store: Store, options: PruneOptions = {}): Promise<PruneResult> {
  const index = await readIndex(store);
  const named = new Set(Object.values(index.images).map((entry) => objectKey(entry.object)));
  const now = (options.now ?? new Date()).getTime();
  const minAge = options.minAgeMs ?? DEFAULT_MIN_AGE_MS;
  const unreferenced: ObjectInfo[] = [];
  const young: ObjectInfo[] = [];
  for (const object of await store.list(IMAGE_PREFIX)) {
    if (object.key === INDEX_KEY || named.has(object.key)) continue;
    if (now - object.modified.getTime() < minAge) young.push(object);
    else unreferenced.push(object);
  }
  if (!options.dryRun) for (const object of unreferenced) await store.delete(object.key);
  return { unreferenced, young };
}
