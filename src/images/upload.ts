/** `hangar image upload NAME FILE`: store the file content-addressed, then point the index at it. */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Store } from "../store/types.js";
import { type ImageEntry, readIndex, writeIndex } from "./catalog.js";
import { fileSha256 } from "./hash.js";
import { imageExtension, objectKey, objectName, validateImageName } from "./names.js";
import { type ProgressTarget, progressMeter } from "./progress.js";

export interface UploadResult {
  readonly entry: ImageEntry;
  /** False when the store already had these exact bytes. */
  readonly transferred: boolean;
}

export async function uploadImage(
  store: Store,
  name: string,
  file: string,
  options: { readonly progress?: ProgressTarget; readonly now?: Date } = {},
): Promise<UploadResult> {
  validateImageName(name);
  const info = await stat(file);
  if (!info.isFile()) throw new Error(`${file} is not a file`);
  const { sha256, size } = await fileSha256(file);
  const object = objectName(name, sha256, imageExtension(file));
  const key = objectKey(object);
  const existing = (await store.list(key)).find((o) => o.key === key);
  const transferred = existing?.size !== size;
  if (transferred) {
    const body = createReadStream(file).pipe(progressMeter(`upload ${name}`, size, options.progress));
    await store.put(key, body, { contentType: "application/octet-stream" });
  }
  const entry: ImageEntry = { object, sha256, size, uploaded: (options.now ?? new Date()).toISOString() };
  // Read-modify-write: two uploads at the same moment may lose one index entry (never an object).
  const index = await readIndex(store);
  index.images[name] = entry;
  await writeIndex(store, index);
  return { entry, transferred };
}
