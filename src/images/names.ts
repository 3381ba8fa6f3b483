/**
 * Where VM images live in the store: content-addressed objects
 * `images/NAME-SHA256.EXT` (an object's bytes never change once written),
 * and one small index object naming the current object of each image.
 */
import { basename } from "node:path";

export const IMAGE_PREFIX = "images/";
export const INDEX_KEY = `${IMAGE_PREFIX}index.json`;

/** Extensions of more than one part that should stay whole (`disk.tar.gz` is `tar.gz`). */
const COMPOUND = ["tar.gz", "tar.xz", "tar.zst", "tar.bz2", "qcow2.gz", "qcow2.xz", "img.gz", "img.xz"];

export class ImageNameError extends Error {
  override readonly name = "ImageNameError";
}

/** Letters, digits and `. _ + -`, starting with a letter or digit; no slashes, so a name is one store key segment. */
export function validateImageName(name: string): string {
  if (!/^[A-Za-z0-9][\w.+-]{0,99}$/.test(name)) {
    throw new ImageNameError(
      `bad image name ${JSON.stringify(name)}: use up to 100 letters, digits, '.', '_', '+' or '-', starting with a letter or digit`,
    );
  }
  return name;
}

/** The extension an image object keeps from its source file; `img` when it has none. */
export function imageExtension(file: string): string {
  const name = basename(file).toLowerCase();
  const compound = COMPOUND.find((ext) => name.endsWith(`.${ext}`) && name.length > ext.length + 1);
  if (compound) return compound;
  const dot = name.lastIndexOf(".");
  const ext = dot > 0 ? name.slice(dot + 1) : "";
  return /^[a-z0-9]{1,10}$/.test(ext) ? ext : "img";
}

export function objectName(name: string, sha256: string, extension: string): string {
  return `${validateImageName(name)}-${sha256}.${extension}`;
}

export function objectKey(object: string): string {
  return `${IMAGE_PREFIX}${object}`;
}
