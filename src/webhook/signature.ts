/**
 * X-Hub-Signature-256 check. `verify` from @octokit/webhooks-methods computes
 * the HMAC-SHA256 of the body and compares with crypto.timingSafeEqual (after a
 * length check, and the length of a valid signature is public). It needs the
 * body as a string; GitHub's bodies are UTF-8, which round-trips byte for byte.
 */
import { verify } from "@octokit/webhooks-methods";

export async function signatureValid(
  secret: string,
  body: string,
  signature: string | undefined,
): Promise<boolean> {
  // verify() throws on an empty body or signature rather than answering false.
  if (signature === undefined || signature === "" || body === "") return false;
  return verify(secret, body, signature);
}
