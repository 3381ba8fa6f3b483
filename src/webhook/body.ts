/**
 * Reading a request body as it streams: each chunk goes into the signature's
 * HMAC and the in-flight budget as it arrives, so an oversize, over-budget or
 * too slow body is refused part way, never buffered whole.
 */
import type { IncomingMessage } from "node:http";
import type { Reservation } from "./budget.js";
import type { StreamingSignature } from "./signature.js";
import type { SlowReason, TransferWatch } from "./transfer.js";

export type BodyResult =
  | { readonly kind: "ok"; readonly body: Buffer }
  | { readonly kind: "too_large" }
  | { readonly kind: "over_budget" }
  | { readonly kind: "aborted" }
  | { readonly kind: SlowReason };

export interface BodyOptions {
  readonly maxBytes: number;
  /** Holds the declared length already; chunks beyond it are reserved as they come. */
  readonly reservation: Reservation;
  /** Fed every chunk; absent when the body is not signed (insecure mode). */
  readonly signature: StreamingSignature | undefined;
  readonly watch: TransferWatch;
}

export function readBody(req: IncomingMessage, options: BodyOptions): Promise<BodyResult> {
  const { maxBytes, reservation, signature } = options;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const transfer = options.watch.watch((reason) => finish({ kind: reason }));
    const finish = (result: BodyResult): void => {
      transfer.done();
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onAbort);
      req.off("close", onAbort);
      if (result.kind !== "ok") {
        chunks.length = 0;
        // Stop reading: the caller answers and closes the connection.
        req.pause();
      }
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      transfer.received(chunk.length);
      if (size > maxBytes) finish({ kind: "too_large" });
      else if (!reservation.ensure(size)) finish({ kind: "over_budget" });
      else {
        signature?.update(chunk);
        chunks.push(chunk);
      }
    };
    const onEnd = (): void =>
      finish({ kind: "ok", body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) });
    const onAbort = (): void => finish({ kind: "aborted" });
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onAbort);
    req.on("close", onAbort);
  });
}
