/**
 * The `webhook` queue entry: {"event", "delivery", "received", "request"}, with
 * `request` being the payload's bytes exactly as GitHub sent them (never
 * re-serialized). `received` (when hangar accepted it) travels with the entry,
 * so scanning it again after a failure names its jobs as the first scan did.
 */

const OPEN_REQUEST = Buffer.from(',"request":');
const CLOSE = Buffer.from("}");

/** `payloadJson` must already be known to be a JSON object (the handler parsed it). */
export function buildEnvelope(
  event: string,
  delivery: string | undefined,
  payloadJson: Buffer,
  received: Date = new Date(),
): Buffer {
  const known = delivery === undefined ? "" : `,"delivery":${JSON.stringify(delivery)}`;
  const head = `{"event":${JSON.stringify(event)}${known},"received":${JSON.stringify(received.toISOString())}`;
  const headBytes = Buffer.from(head);
  return Buffer.concat(
    [headBytes, OPEN_REQUEST, payloadJson, CLOSE],
    headBytes.length + OPEN_REQUEST.length + payloadJson.length + CLOSE.length,
  );
}
