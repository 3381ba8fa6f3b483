/**
 * Runs the viewer page's script against a real store server, with a tiny
 * stand-in for the DOM (no browser on this machine): it follows the chunks,
 * switches to the whole log without repeating or losing text, and renders
 * ANSI colours as spans of text, never as markup.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import vm from "node:vm";
import { openStore } from "../../src/store/index.js";
import { LogStreamer } from "../../src/store/log.js";
import { LOG_PAGE_HTML } from "../../src/store/log-page.js";
import { type StoreServer, startStoreServer } from "../../src/store/server.js";
import type { Store } from "../../src/store/types.js";
import { silentLogger } from "../../src/util/logger.js";

class FakeNode {
  readonly children: FakeNode[] = [];
  className = "";
  hidden = false;
  href = "";
  readonly style: Record<string, string> = {};
  private text = "";

  constructor(readonly tagName: string) {}

  get textContent(): string {
    return this.tagName === "#text" ? this.text : this.children.map((child) => child.textContent).join("");
  }

  set textContent(value: string) {
    this.children.length = 0;
    if (this.tagName === "#text") this.text = value;
    else if (value !== "") this.children.push(text(value));
  }

  appendChild(child: FakeNode): FakeNode {
    if (child.tagName === "#fragment") this.children.push(...child.children.splice(0));
    else this.children.push(child);
    return child;
  }
}

function text(value: string): FakeNode {
  const node = new FakeNode("#text");
  node.textContent = value;
  return node;
}

function scriptOf(html: string): string {
  const match = /<script>([\s\S]*)<\/script>/.exec(html);
  assert.ok(match?.[1] !== undefined, "the page has an inline script");
  return match[1];
}

interface Page {
  readonly elements: Map<string, FakeNode>;
  readonly document: { title: string };
  text(id: string): string;
  close(): void;
}

/** Load the page's script as if the browser had opened pageUrl; timers run 100 times faster. */
function openPage(pageUrl: string): Page {
  const elements = new Map<string, FakeNode>();
  for (const id of [
    "title",
    "state",
    "description",
    "context",
    "subject",
    "worker",
    "time",
    "attachments",
    "problem",
    "log",
  ]) {
    elements.set(id, new FakeNode(id === "log" ? "pre" : "span"));
  }
  const timers = new Set<NodeJS.Timeout>();
  const document = {
    title: "",
    scrollingElement: { scrollHeight: 100, scrollTop: 0, clientHeight: 100 },
    getElementById: (id: string) => elements.get(id) ?? null,
    createElement: (tag: string) => new FakeNode(tag),
    createTextNode: text,
    createDocumentFragment: () => new FakeNode("#fragment"),
  };
  const context = vm.createContext({
    document,
    window: { scrollTo: () => undefined },
    fetch: (name: string, init: RequestInit) => fetch(new URL(name, pageUrl), init),
    TextDecoder,
    setTimeout: (callback: () => void, ms: number) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        callback();
      }, ms / 100);
      timers.add(timer);
      return timer;
    },
    setInterval: (callback: () => void, ms: number) => {
      const timer = setInterval(callback, ms / 100);
      timers.add(timer);
      return timer;
    },
    clearInterval: (timer: NodeJS.Timeout) => {
      clearInterval(timer);
      timers.delete(timer);
    },
  });
  vm.runInContext(scriptOf(LOG_PAGE_HTML), context);
  return {
    elements,
    document,
    text: (id) => elements.get(id)?.textContent ?? "",
    close: () => {
      for (const timer of timers) clearTimeout(timer);
    },
  };
}

async function until(what: string, condition: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function spans(node: FakeNode): FakeNode[] {
  return node.children.flatMap((child) =>
    child.tagName === "span" ? [child, ...spans(child)] : spans(child),
  );
}

const META = {
  title: "Fix <b>the</b> thing",
  context: "unit",
  repo: "example/project",
  sha: "a".repeat(40),
  pull: 3,
  worker: "w1",
};

describe("log page", () => {
  let root: string;
  let store: Store;
  let server: StoreServer;
  const pages: Page[] = [];

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), "hangar-page-"));
    server = await startStoreServer({ dir: root, listen: "127.0.0.1:0", logger: silentLogger() });
    store = await openStore({ driver: "fs", dir: root, publicUrl: server.url });
  });

  after(async () => {
    for (const page of pages) page.close();
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  test("follows a running job, then shows the whole log once", async () => {
    const log = new LogStreamer(store, "job-1", META, { flushIntervalMs: 5 });
    await log.flush();
    const page = openPage(log.url);
    pages.push(page);
    await until("running state", () => page.text("state") === "running");
    assert.equal(page.text("title"), "Fix <b>the</b> thing");
    assert.match(page.text("subject"), /example\/project#3/);

    log.write("\u001b[1;31mred bold\u001b[0m plain <img src=x onerror=alert(1)>\n");
    await until("first chunk shown", () => page.text("log").includes("plain"));
    log.write("next: \u001b[3");
    await log.flush();
    log.write("2mgreen\u001b[0m\r\n");
    await until("second line shown", () => page.text("log").includes("green"));
    log.write("last line\n");
    await log.attach("shot one.png", Buffer.from("png"));
    await log.finish("failure", "1 test failed");

    await until("final state", () => page.text("state") === "failure");
    await until("whole log", () => page.text("log").endsWith("last line\n"));
    assert.equal(page.text("log"), "red bold plain <img src=x onerror=alert(1)>\nnext: green\nlast line\n");
    assert.equal(page.text("description"), "1 test failed");
    assert.equal(page.document.title, "failure: Fix <b>the</b> thing");
    const logNode = page.elements.get("log");
    assert.ok(logNode !== undefined);
    const styled = spans(logNode).map((span) => [span.className, span.textContent]);
    assert.deepEqual(styled, [
      ["b f1", "red bold"],
      ["f2", "green"],
    ]);
    assert.ok(
      logNode.children.every((child) => child.tagName === "#text" || child.tagName === "span"),
      "log text only ever becomes text nodes and spans",
    );
    const [attachment] = page.elements.get("attachments")?.children ?? [];
    assert.equal(attachment?.children[0]?.href, "attachments/shot%20one.png");
    assert.equal(attachment?.textContent, "shot one.png");
  });

  test("a chunk removed before the page got it: the page picks up the whole log", async () => {
    const slug = "job-2";
    const status = (state: string, chunks: number) =>
      JSON.stringify({
        ...META,
        state,
        description: state,
        started: new Date().toISOString(),
        ended: null,
        chunks,
        attachments: [],
      });
    await store.put(`${slug}/log.html`, LOG_PAGE_HTML);
    await store.put(`${slug}/log.chunks/000000`, "first\n");
    await store.put(`${slug}/status.json`, status("running", 2)); // chunk 1 is already gone
    const page = openPage(store.url(`${slug}/log.html`));
    pages.push(page);
    await until("first chunk", () => page.text("log") === "first\n");
    await store.put(`${slug}/log`, "first\nsecond\n");
    await store.put(`${slug}/status.json`, status("success", 2));
    await store.delete(`${slug}/log.chunks/000000`);
    await until("final state", () => page.text("state") === "success");
    await until("whole log", () => page.text("log") === "first\nsecond\n");
  });

  test("a directory with only a log (no status.json) still shows it", async () => {
    await store.put("plain/log.html", LOG_PAGE_HTML);
    await store.put("plain/log", "just a log\n");
    const page = openPage(store.url("plain/log.html"));
    pages.push(page);
    await until("log shown", () => page.text("log") === "just a log\n");
  });

  test("without JavaScript the page links to the raw log", () => {
    assert.match(LOG_PAGE_HTML, /<noscript>[\s\S]*<a href="log">log<\/a>[\s\S]*<\/noscript>/);
    assert.match(LOG_PAGE_HTML, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.doesNotMatch(LOG_PAGE_HTML, /(src|href)="(https?:)?\/\//, "no external resources");
  });
});
