/**
 * X-Hub-Signature-256 check over the body's raw bytes (what GitHub signs).
 * The comparison is constant-time: timingSafeEqual over equal-length buffers.
 * A header of the wrong length is compared against the expected value itself,
 * so the time taken never depends on where a wrong signature differs.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

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
