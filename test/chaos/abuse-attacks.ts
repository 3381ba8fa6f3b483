/**
 * What an attacker sends the webhook, over real connections: unsigned huge
 * bodies, connections that trickle their headers, and a flood of unsigned
 * requests each with a new junk X-GitHub-Event. Each resolves once its
 * connections are done; each counts the 5xx answers it got.
 */
import { Agent, request } from "node:http";
import { connect } from "node:net";

export interface AttackOutcome {
  readonly sent: number;
  readonly serverErrors: number;
}

const MiB = 1024 * 1024;
const CHUNK = Buffer.alloc(MiB, 0x7b);

/** One unsigned POST declaring `bodyMiB` MiB, written as fast as the connection takes it until answered. */
function unsignedBody(url: URL, bodyMiB: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    let status = 0;
    const req = request(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "content-length": String(bodyMiB * MiB),
        "x-github-event": "pull_request",
      },
    });
    req.on("response", (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      req.destroy();
    });
    req.on("error", () => undefined);
    req.on("close", () => resolve(status));
    const pump = (): void => {
      while (sent < bodyMiB && !req.destroyed) {
        sent += 1;
        if (!req.write(CHUNK)) return void req.once("drain", pump);
      }
      if (sent >= bodyMiB) req.end();
    };
    pump();
  });
}

export async function unsignedBodies(url: string, count: number, bodyMiB: number): Promise<AttackOutcome> {
  const statuses = await Promise.all(
    Array.from({ length: count }, () => unsignedBody(new URL(url), bodyMiB)),
  );
  return { sent: count, serverErrors: statuses.filter((s) => s >= 500).length };
}

/** Connections that send a header line every `dripMs` and never finish; resolves once the server dropped them all. */
export async function slowloris(url: string, count: number, dripMs: number): Promise<AttackOutcome> {
  const { hostname, port } = new URL(url);
  let serverErrors = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const socket = connect(Number(port), hostname);
      socket.on("connect", () => socket.write("POST / HTTP/1.1\r\nHost: hangar\r\n"));
      const drip = setInterval(() => socket.writable && socket.write("X-Slow: 1\r\n"), dripMs);
      socket.on("data", (data: Buffer) => {
        if (/^HTTP\/1\.1 5/.test(data.toString("latin1"))) serverErrors += 1;
      });
      socket.on("error", () => undefined);
      socket.on("close", () => {
        clearInterval(drip);
        resolve();
      });
    });
  await Promise.all(Array.from({ length: count }, one));
  return { sent: count, serverErrors };
}

/** `count` unsigned POSTs, `concurrency` at a time, each with a new 8 KB X-GitHub-Event. */
export async function junkEvents(url: string, count: number, concurrency: number): Promise<AttackOutcome> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  let next = 0;
  let serverErrors = 0;
  const post = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const req = request(target, {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "x-github-event": `junk-${i}-${"j".repeat(8000)}` },
      });
      req.on("response", (res) => {
        if ((res.statusCode ?? 0) >= 500) serverErrors += 1;
        res.resume();
        res.on("end", resolve);
      });
      req.on("error", () => resolve());
      req.end("{}");
    });
  const worker = async (): Promise<void> => {
    while (next < count) await post(next++);
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return { sent: count, serverErrors };
}
