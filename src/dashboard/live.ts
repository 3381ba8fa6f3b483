/**
 * Server-Sent Events for a page's live sections: every interval the server
 * renders them again and sends those whose HTML changed, as
 * `data: {"id": ..., "html": ...}`. A comment line every 15 s keeps proxies
 * from closing an idle stream.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PageView } from "./view.js";

const KEEPALIVE_MS = 15_000;

export function streamLive(
  req: IncomingMessage,
  res: ServerResponse,
  view: PageView,
  intervalMs: number,
  onClose: (stop: () => void) => () => void,
): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-accel-buffering": "no",
  });
  res.write("retry: 2000\n\n");
  const sent = new Map<string, string>();
  const live = view.sections.filter((section) => section.live);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let lastWrite = Date.now();

  const stop = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    forget();
    res.end();
  };
  const forget = onClose(stop);

  const tick = async () => {
    for (const section of live) {
      if (closed) return;
      let fresh: string;
      try {
        fresh = (await section.render()).text;
      } catch {
        continue;
      }
      if (sent.get(section.id) === fresh) continue;
      sent.set(section.id, fresh);
      res.write(`data: ${JSON.stringify({ id: section.id, html: fresh })}\n\n`);
      lastWrite = Date.now();
    }
    if (Date.now() - lastWrite > KEEPALIVE_MS) {
      res.write(": keepalive\n\n");
      lastWrite = Date.now();
    }
  };
  const loop = () => {
    if (closed) return;
    void tick().finally(() => {
      if (!closed) timer = setTimeout(loop, intervalMs);
    });
  };
  req.on("close", stop);
  loop();
}
