/**
 * The image index: one JSON object in the store, `{"version": 1, "images":
 * {NAME: {object, sha256, size, uploaded}}}`. Readers resolve a name through
 * it; objects no index entry names are garbage for `hangar image prune`.
 */
import { z } from "zod";
import type { Store } from "../store/types.js";
import { INDEX_KEY } from "./names.js";

const entrySchema = z.object({
  object: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  uploaded: z.string(),
});
const indexSchema = z.object({ version: z.literal(1), images: z.record(z.string(), entrySchema) });

export type ImageEntry = z.infer<typeof entrySchema>;
export type ImageIndex = z.infer<typeof indexSchema>;

export class ImageIndexError extends Error {
  override readonly name = "ImageIndexError";
}

export async function readIndex(store: Store): Promise<ImageIndex> {
  const body = await store.get(INDEX_KEY);
  if (body === null) return { version: 1, images: {} };
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new ImageIndexError(`${INDEX_KEY} in the store is not JSON: ${(error as Error).message}`);
  }
  const parsed = indexSchema.safeParse(value);
  if (!parsed.success) throw new ImageIndexError(`${INDEX_KEY} in the store is not an image index`);
  return parsed.data;
}

export async function writeIndex(store: Store, index: ImageIndex): Promise<void> {
  const sorted = Object.fromEntries(Object.entries(index.images).sort(([a], [b]) => a.localeCompare(b)));
  await store.put(INDEX_KEY, `${JSON.stringify({ version: 1, images: sorted }, null, 2)}\n`, {
    contentType: "application/json; charset=utf-8",
  });
}
