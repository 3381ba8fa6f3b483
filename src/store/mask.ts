/**
 * Masking secrets in everything that leaves a job: its log, its attachments,
 * its status description. A secret is replaced by `***` as written, and also
 * in the forms a job (or a tool it runs) commonly prints it in:
 *
 * - base64 and base64url, in all three alignments: base64 of prefix+secret
 *   for a prefix of 0, 1 or 2 bytes, keeping only the characters that depend
 *   on the secret's bytes alone (so the secret is caught inside a longer
 *   encoded blob, such as an HTTP Basic header or a base64 config file);
 * - URL-encoded (encodeURIComponent, encodeURI and form encoding), with upper-
 *   and lower-case hex digits;
 * - JSON-escaped, as JSON.stringify writes it, and with every non-ASCII
 *   character as \uXXXX (Python's json.dumps), in both hex cases.
 *
 * Derived forms shorter than MIN_VARIANT_LENGTH are dropped, so a tiny secret
 * does not mask half the log through its 2-character base64 fragment.
 *
 * Streams are masked as if they were one piece, wherever they are split: the
 * masker holds back any tail that could still become a secret and decides
 * each match only once no longer, earlier match can still complete
 * (leftmost, then longest; matches never overlap).
 */
import { Transform, type TransformCallback } from "node:stream";

export const MIN_VARIANT_LENGTH = 4;
const STARS = Buffer.from("***");

function base64Fragments(bytes: Buffer): string[] {
  const fragments: string[] = [];
  for (const prefix of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(prefix), bytes]).toString("base64");
    // Character i covers bits [6i, 6i + 6); the secret's bits are [8 * prefix, 8 * (prefix + length)).
    const start = Math.ceil((8 * prefix) / 6);
    const end = Math.floor((8 * (prefix + bytes.length)) / 6);
    if (end > start) fragments.push(encoded.slice(start, end));
  }
  return [...fragments, ...fragments.map((text) => text.replace(/\+/g, "-").replace(/\//g, "_"))];
}

const lowerHex = (text: string) => text.replace(/%[0-9A-F]{2}/g, (sequence) => sequence.toLowerCase());
const lowerUnicodeEscapes = (text: string) =>
  text.replace(/\\u[0-9A-Fa-f]{4}/g, (sequence) => sequence.toLowerCase());

function urlForms(secret: string): string[] {
  const forms: string[] = [];
  for (const encode of [
    encodeURIComponent,
    encodeURI,
    (text: string) => new URLSearchParams({ x: text }).toString().slice(2),
  ]) {
    try {
      const encoded = encode(secret);
      forms.push(encoded, lowerHex(encoded));
    } catch {
      // A lone surrogate cannot be URL-encoded, so it is never printed that way either.
    }
  }
  return forms;
}

function jsonForms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const ascii = json.replace(
    /[^\x20-\x7e]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()}`,
  );
  return [json, ascii, lowerUnicodeEscapes(ascii)];
}

/** Every form of one secret the masker replaces: the secret itself first. */
export function secretForms(secret: string): string[] {
  if (secret === "") return [];
  const variants = [...base64Fragments(Buffer.from(secret)), ...urlForms(secret), ...jsonForms(secret)];
  const long = variants.filter((form) => form.length >= MIN_VARIANT_LENGTH);
  return [...new Set([secret, ...long])];
}

/** A form with its KMP failure function, to find the longest tail of a buffer that starts it. */
class Form {
  readonly failure: Int32Array;
  constructor(readonly bytes: Buffer) {
    this.failure = new Int32Array(bytes.length);
    for (let index = 1, matched = 0; index < bytes.length; index++) {
      while (matched > 0 && bytes[index] !== bytes[matched]) matched = this.failure[matched - 1] ?? 0;
      if (bytes[index] === bytes[matched]) matched++;
      this.failure[index] = matched;
    }
  }

  /** Length of the longest suffix of data[from..] that is a proper prefix of this form. */
  openTail(data: Buffer, from: number): number {
    const length = this.bytes.length;
    let matched = 0;
    for (let index = Math.max(from, data.length - length + 1); index < data.length; index++) {
      while (matched > 0 && data[index] !== this.bytes[matched]) matched = this.failure[matched - 1] ?? 0;
      if (data[index] === this.bytes[matched]) matched++;
      if (matched === length) matched = this.failure[length - 1] ?? 0;
    }
    return matched;
  }
}

interface Masked {
  readonly output: Buffer;
  /** The tail that could still become a secret (empty when the data is final). */
  readonly held: Buffer;
}

/** Replaces secrets in a byte stream, holding back a tail that could be the start of one. */
export class SecretMasker {
  /** Longest first, so at one position the longest form wins. */
  private readonly forms: Form[];
  private readonly longest: number;
  private held: Buffer = Buffer.alloc(0);

  constructor(values: readonly string[]) {
    const texts = new Set(values.flatMap(secretForms));
    this.forms = [...texts]
      .map((text) => new Form(Buffer.from(text)))
      .sort((a, b) => b.bytes.length - a.bytes.length);
    this.longest = this.forms[0]?.bytes.length ?? 0;
  }

  /** Whether there is anything to mask at all. */
  get active(): boolean {
    return this.forms.length > 0;
  }

  /** The part of held + chunk that is safe to write now, masked. */
  push(chunk: Buffer): Buffer {
    if (!this.active) return chunk;
    const { output, held } = this.mask(
      this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]),
      false,
    );
    this.held = Buffer.from(held);
    return output;
  }

  /** The rest of the stream, masked: what was held back can no longer grow into a secret. */
  end(): Buffer {
    const held = this.held;
    this.held = Buffer.alloc(0);
    return this.active ? this.mask(held, true).output : held;
  }

  /** One whole text (a status description, a file name), masked; the stream's state is untouched. */
  maskString(text: string): string {
    return this.active ? this.maskBytes(Buffer.from(text)).toString() : text;
  }

  /** One whole piece of data, masked; the stream's state is untouched. */
  maskBytes(data: Buffer): Buffer {
    return this.active ? this.mask(data, true).output : data;
  }

  private mask(data: Buffer, final: boolean): Masked {
    const parts: Buffer[] = [];
    const next = new Array<number>(this.forms.length).fill(-2);
    // Only a match in the last `longest - 1` bytes can be outrun by one that has not completed yet.
    const safeBefore = final ? data.length : data.length - this.longest + 1;
    let position = 0;
    for (;;) {
      const match = this.leftmostLongest(data, position, next);
      if (match === undefined) break;
      if (match.start >= safeBefore && match.start >= this.openStart(data, position)) break;
      parts.push(data.subarray(position, match.start), STARS);
      position = match.start + match.length;
    }
    const holdFrom = final ? data.length : this.openStart(data, position);
    parts.push(data.subarray(position, holdFrom));
    return { output: Buffer.concat(parts), held: data.subarray(holdFrom) };
  }

  /** The earliest complete match at or after position; at equal starts, the longest. */
  private leftmostLongest(data: Buffer, position: number, next: number[]) {
    let best: { start: number; length: number } | undefined;
    this.forms.forEach((form, index) => {
      let found = next[index] ?? -2;
      if (found !== -1 && found < position) {
        found = data.indexOf(form.bytes, position);
        next[index] = found;
      }
      if (found >= 0 && (best === undefined || found < best.start))
        best = { start: found, length: form.bytes.length };
    });
    return best;
  }

  /** Where the earliest tail starts that is the beginning of some form: data.length when none is. */
  private openStart(data: Buffer, position: number): number {
    let start = data.length;
    for (const form of this.forms) start = Math.min(start, data.length - form.openTail(data, position));
    return start;
  }
}

/** A stream masked through its own SecretMasker: for attachments. */
export class MaskingTransform extends Transform {
  private readonly masker: SecretMasker;

  constructor(values: readonly string[]) {
    super();
    this.masker = new SecretMasker(values);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    done(null, this.masker.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
  }

  override _flush(done: TransformCallback): void {
    done(null, this.masker.end());
  }
}
