/**
 * Waking consumers when entries become ready, without sleep-polling.
 *
 * In this process an EventEmitter per database file carries the signal. Other
 * processes learn of it through inotify (fs.watch) on a small side file,
 * `<database>-wake`, that is rewritten after each commit that makes entries
 * ready. Watching the WAL itself would race: its frames are written before the
 * commit becomes visible in the shared-memory index, so a reader woken by the
 * WAL write may not see the entry yet. The side file is touched only after the
 * commit, so a woken reader always finds it.
 */
import { EventEmitter } from "node:events";
import { closeSync, constants, type FSWatcher, openSync, watch, writeSync } from "node:fs";
import { resolve } from "node:path";
import { PRIVATE_FILE_MODE } from "./private-file.js";

/** Called with the queue when it is known (same process), or undefined (another process). */
export type WakeListener = (queue: string | undefined) => void;

const inProcess = new Map<string, { emitter: EventEmitter; users: number }>();
const WAKE_EVENT = "wake";
const TOUCH = Buffer.from([1]);

export class Wakeup {
  private readonly file: string;
  private readonly fd: number;
  private readonly emitter: EventEmitter;
  private readonly listeners = new Set<WakeListener>();
  private watcher: FSWatcher | undefined;
  private closed = false;

  constructor(
    databasePath: string,
    private readonly onError: (error: Error) => void,
  ) {
    this.file = `${resolve(databasePath)}-wake`;
    this.fd = openSync(this.file, constants.O_RDWR | constants.O_CREAT, PRIVATE_FILE_MODE);
    let shared = inProcess.get(this.file);
    if (!shared) {
      shared = { emitter: new EventEmitter(), users: 0 };
      shared.emitter.setMaxListeners(0);
      inProcess.set(this.file, shared);
    }
    shared.users += 1;
    this.emitter = shared.emitter;
  }

  /** Signal that entries of `queue` are ready: to this process's and other processes' consumers. */
  notify(queue: string | undefined): void {
    if (this.closed) return;
    this.emitter.emit(WAKE_EVENT, queue);
    // Overwrites one byte in place: an inotify IN_MODIFY for the watchers, the file never grows.
    writeSync(this.fd, TOUCH, 0, 1, 0);
  }

  /** Listen for wake-ups; the file watch runs only while someone listens. */
  subscribe(listener: WakeListener): () => void {
    this.listeners.add(listener);
    this.emitter.on(WAKE_EVENT, listener);
    this.watcher ??= this.startWatching();
    return () => {
      this.listeners.delete(listener);
      this.emitter.off(WAKE_EVENT, listener);
      if (this.listeners.size === 0) this.stopWatching();
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.listeners) this.emitter.off(WAKE_EVENT, listener);
    this.listeners.clear();
    this.stopWatching();
    closeSync(this.fd);
    const shared = inProcess.get(this.file);
    if (shared && --shared.users === 0) inProcess.delete(this.file);
  }

  private startWatching(): FSWatcher {
    const watcher = watch(this.file, { persistent: true }, () => {
      for (const listener of this.listeners) listener(undefined);
    });
    watcher.on("error", (error) => this.onError(error));
    return watcher;
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
