/** The webhook's own HTTP server, for `hangar webhook` and for running in-process. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createWebhookHandler, type WebhookOptions } from "./handler.js";

export interface RunningWebhook {
  /** Base URL deliveries are posted to, e.g. http://127.0.0.1:8080/ */
  readonly url: string;
  /** Stop accepting, let requests in flight finish, then resolve. */
  close(): Promise<void>;
}

const CLOSE_GRACE_MS = 5000;

/** Split `host:port` (or `[v6]:port`) from the config. */
export function splitListen(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(":");
  const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(listen.slice(colon + 1)) };
}

export async function startWebhookServer(options: WebhookOptions): Promise<RunningWebhook> {
  const server = createServer({ requestTimeout: 30_000 }, createWebhookHandler(options));
  const { host, port } = splitListen(options.config.webhook.listen);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}/`;
  options.logger.info({ url, queue: options.config.queue.names.webhook }, "webhook listening");

  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close((error) => {
          clearTimeout(force);
          if (error) reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
