/** What a page is made of: sections, some of which the live stream keeps fresh. */
import type { JobHistory } from "../jobs/types.js";
import type { QueueBackend, QueueKind } from "../queue/types.js";
import type { Store } from "../store/types.js";
import type { Html } from "./html.js";

/** Everything the pages read. */
export interface DashboardSources {
  readonly queue: QueueBackend;
  /** The configured queues and their kinds, in display order. */
  readonly queues: ReadonlyMap<string, QueueKind>;
  readonly history: JobHistory;
  /** Where job logs are; without it, no log tails. */
  readonly store?: Store;
}

export interface Section {
  /** The element id; also names the section in live updates. */
  readonly id: string;
  /** Sent again over the live stream whenever its HTML changes. */
  readonly live: boolean;
  render(): Promise<Html>;
}

export interface PageView {
  readonly title: string;
  readonly sections: readonly Section[];
}

export interface ViewRequest {
  readonly url: URL;
  readonly sources: DashboardSources;
}

/** A page for a request, or null when there is no such page (404). */
export type PageRoute = (request: ViewRequest) => Promise<PageView | null>;
