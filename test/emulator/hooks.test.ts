import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Emulator, HOOK_ID, startEmulator } from "../../src/emulator/index.js";
import { expectedSignature } from "../../src/webhook/index.js";
import { startReceiver, tempDir } from "./helpers.js";

const REPO = "acme/hooked";
const SECRET = "hook-secret";

describe("emulator: hook deliveries and redelivery", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let emu: Emulator;
  let failing: Awaited<ReturnType<typeof startReceiver>>;
  let working: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    dir = await tempDir("emu-hooks");
    failing = await startReceiver(503);
    working = await startReceiver(202);
    emu = await startEmulator({ dir: dir.path, webhook: { url: failing.url, secret: SECRET } });
    await emu.createRepo({ repo: REPO, files: { "a.txt": "a" } });
    await emu.createRepo({ repo: "other/repo", files: { "a.txt": "a" } });
  });
  after(async () => {
    await emu.close();
    await failing.close();
    await working.close();
    await dir.remove();
  });

  const api = (path: string, init?: RequestInit) => fetch(`${emu.url}${path}`, init);

  test("lists a repository's delivery attempts, newest first, with the receiver's status", async () => {
    const opened = await emu.openPull({ repo: REPO, files: { "b.txt": "b" } });
    await emu.openPull({ repo: "other/repo", files: { "b.txt": "b" } });
    assert.equal(opened.delivery?.status, 503);
    const response = await api(`/repos/${REPO}/hooks/${HOOK_ID}/deliveries?per_page=100`);
    assert.equal(response.status, 200);
    const list = (await response.json()) as Record<string, unknown>[];
    assert.equal(list.length, 1, "only this repository's deliveries");
    const [item] = list;
    assert.equal(item?.guid, opened.delivery?.id);
    assert.equal(item?.status_code, 503);
    assert.equal(item?.status, "Invalid HTTP Response: 503");
    assert.equal(item?.event, "pull_request");
    assert.equal(item?.action, "opened");
    assert.equal(item?.redelivery, false);
    assert.equal(typeof item?.id, "number");
    assert.equal((await api(`/repos/${REPO}/hooks/${HOOK_ID + 1}/deliveries`)).status, 404);
    const org = (await (await api(`/orgs/acme/hooks/${HOOK_ID}/deliveries`)).json()) as unknown[];
    assert.equal(org.length, 1);
  });

  test("redelivery sends the same delivery again, same GUID, signed, and is listed as a redelivery", async () => {
    const [first] = (await (await api(`/repos/${REPO}/hooks/${HOOK_ID}/deliveries`)).json()) as {
      id: number;
      guid: string;
    }[];
    await emu.setWebhook({ url: working.url, secret: SECRET });
    const response = await api(`/repos/${REPO}/hooks/${HOOK_ID}/deliveries/${first?.id}/attempts`, {
      method: "POST",
    });
    assert.equal(response.status, 202);
    await emu.idle();
    const received = working.received.at(-1);
    assert.equal(received?.headers["x-github-delivery"], first?.guid);
    assert.equal(
      received?.headers["x-hub-signature-256"],
      expectedSignature(SECRET, Buffer.from(received?.body ?? "")),
    );
    const list = (await (await api(`/repos/${REPO}/hooks/${HOOK_ID}/deliveries`)).json()) as Record<
      string,
      unknown
    >[];
    assert.equal(list.length, 2);
    assert.equal(list[0]?.guid, first?.guid);
    assert.equal(list[0]?.redelivery, true);
    assert.equal(list[0]?.status_code, 202);
    assert.equal(
      (await api(`/repos/${REPO}/hooks/${HOOK_ID}/deliveries/999999/attempts`, { method: "POST" })).status,
      404,
    );
  });

  test("a delay fault holds the answer; a status fault with rate-limit headers is answered as given", async () => {
    await emu.injectFault({ method: "GET", path: `/repos/${REPO}`, delayMs: 300 });
    const started = Date.now();
    assert.equal((await api(`/repos/${REPO}`)).status, 200);
    assert.ok(Date.now() - started >= 250);
    await emu.injectFault({
      path: `/repos/${REPO}`,
      status: 403,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000000" },
    });
    const limited = await api(`/repos/${REPO}`);
    assert.equal(limited.status, 403);
    assert.equal(limited.headers.get("x-ratelimit-remaining"), "0");
    await assert.rejects(emu.injectFault({ path: "/x" }), /status, a delayMs, or both/);
  });
});
