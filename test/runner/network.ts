/** A TCP service of the "worker" for sandbox tests: whoever reaches it gets a greeting line. */
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { networkInterfaces } from "node:os";

/** Bridges of container engines: addresses there are not the host's own network. */
const BRIDGE = /^(cni|podman|docker|veth|br-)/;

/** An IPv4 address of this host reachable from its containers too (not loopback, not a bridge). */
export function hostAddress(): string {
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    if (BRIDGE.test(name)) continue;
    const found = addresses?.find((a) => a.family === "IPv4" && !a.internal);
    if (found) return found.address;
  }
  throw new Error("this host has no non-loopback IPv4 address for the network tests");
}

export class TcpGreeter {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly greeting: string,
  ) {}

  /** Listening on every address of the host. */
  static async start(greeting: string): Promise<TcpGreeter> {
    const server = createServer((socket) => socket.end(`${greeting}\n`));
    server.listen(0, "0.0.0.0");
    await once(server, "listening");
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP port");
    return new TcpGreeter(server, address.port, greeting);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
