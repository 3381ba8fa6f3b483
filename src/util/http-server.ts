/** Starting and stopping hangar's HTTP servers (webhook, store, dashboard) the same way. */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Split `host:port` or `[v6]:port`, as the config's listen keys are written. */
export function splitListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new Error(`a listen address must be host:port, got ${JSON.stringify(listen)}`);
  }
  return { host, port };
}

/** Listen on `host:port` (port 0 picks a free one); resolves with the server's base URL, ending in `/`. */
export async function listen(server: Server, address: string): Promise<string> {
  const { host, port } = splitListen(address);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  return `http://${shownHost}:${bound.port}/`;
}

/**
 * Stop accepting, let requests in flight finish for up to `graceMs` (0: cut
 * them at once), then resolve.
 */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close((error) => {
      clearTimeout(force);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
    if (graceMs === 0) server.closeAllConnections();
  });
}
