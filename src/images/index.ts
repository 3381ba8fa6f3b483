/** The VM image store: content-addressed images in the store, a verified local cache on workers. */
export { defaultCacheDir, ImageCache } from "./cache.js";
export { type ImageEntry, type ImageIndex, ImageIndexError, readIndex, writeIndex } from "./catalog.js";
export {
  ChecksumError,
  copyOut,
  type DownloadOptions,
  type DownloadResult,
  downloadImage,
  ImageNotFoundError,
} from "./download.js";
export {
  IMAGE_PREFIX,
  ImageNameError,
  INDEX_KEY,
  imageExtension,
  objectKey,
  objectName,
  validateImageName,
} from "./names.js";
export { type ProgressTarget, progressLine, progressMeter } from "./progress.js";
export { DEFAULT_MIN_AGE_MS, type PruneOptions, type PruneResult, pruneImages } from "./prune.js";
export { type UploadResult, uploadImage } from "./upload.js";
