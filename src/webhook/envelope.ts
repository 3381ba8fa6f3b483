/**
 * The `webhook` queue entry: {"event", "delivery", "request"}, with `request`
 * being the payload's bytes exactly as GitHub sent them (never re-serialized).
 */

const OPEN_REQUEST = Buffer.from(',"request":');
const CLOSE = Buffer.from("}");

/** `payloadJson` must already be known to be a JSON object (the handler parsed it). */
export function buildEnvelope(event: string, delivery: string | undefined, payloadJson: Buffer): Buffer {
  const head =
    delivery === undefined
      ? `{"event":${JSON.stringify(event)}`
      : `{"event":${JSON.stringify(event)},"delivery":${JSON.stringify(delivery)}`;
  const headBytes = Buffer.from(head);
  return Buffer.concat(
    [headBytes, OPEN_REQUEST, payloadJson, CLOSE],
    headBytes.length + OPEN_REQUEST.length + payloadJson.length + CLOSE.length,
  );
}
