/**
 * X-Hub-Signature-256 check over the body's raw bytes (what GitHub signs).
 * The comparison is constant-time: timingSafeEqual over equal-length buffers.
 * A header of the wrong length is compared against the expected value itself,
 * so the time taken never depends on where a wrong signature differs.
 */
import { createHmac, type Hmac, timingSafeEqual } from "node:crypto";

const PREFIX = "sha256=";

export function expectedSignature(secret: string, body: Buffer): string {
  return PREFIX + createHmac("sha256", secret).update(body).digest("hex");
}

export function signatureValid(secret: string, body: Buffer, signature: string | undefined): boolean {
  const expected = Buffer.from(expectedSignature(secret, body), "latin1");
  const given = Buffer.from(signature ?? "", "latin1");
  const sameLength = given.length === expected.length;
  const equal = timingSafeEqual(sameLength ? given : expected, expected);
  return sameLength && equal;
}

const SIGNATURE_HEADER = /^sha256=([0-9a-f]{64})$/;

/** The digest an X-Hub-Signature-256 value names, or undefined when it is not one GitHub could send. */
export function parseSignature(header: string): Buffer | undefined {
  const hex = SIGNATURE_HEADER.exec(header)?.[1];
  return hex === undefined ? undefined : Buffer.from(hex, "hex");
}

/** The HMAC of a body fed chunk by chunk as it arrives, compared once at its end. */
export class StreamingSignature {
  private readonly hmac: Hmac;

  constructor(
    secret: string,
    private readonly given: Buffer,
  ) {
    this.hmac = createHmac("sha256", secret);
  }

  update(chunk: Buffer): void {
    this.hmac.update(chunk);
  }

  /** Only once, after the last chunk. */
  valid(): boolean {
    const digest = this.hmac.digest();
    return digest.length === this.given.length && timingSafeEqual(digest, this.given);
  }
}
