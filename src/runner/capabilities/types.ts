/** What a capability probe found out. */
export interface ProbeResult {
  readonly capability: string;
  readonly available: boolean;
  /** Why, in words an operator can act on (shown in the worker's log). */
  readonly reason: string;
}
