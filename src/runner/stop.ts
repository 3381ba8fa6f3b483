/** Why a running job was told to stop: the reason travels as its AbortSignal's reason. */

export type StopKind = "shutdown" | "superseded" | "cancelled";

export class StopRequest {
  constructor(
    readonly kind: StopKind,
    /** For superseded: the PR's new head. */
    readonly by?: string,
  ) {}
}

export function stopReason(signal: AbortSignal): StopRequest | undefined {
  return signal.aborted && signal.reason instanceof StopRequest ? signal.reason : undefined;
}

/** Clone errors that say the network or the server failed, not the repository: worth another attempt. */
const NETWORK_TROUBLE =
  /could not resolve host|connection (refused|reset|timed out)|failed to connect|timed out|unable to access|early eof|rpc failed|remote end hung up|network is unreachable|temporary failure|ssl|tls|http 5\d\d|the requested url returned error: 5\d\d/i;

export function isNetworkError(message: string): boolean {
  return NETWORK_TROUBLE.test(message);
}
