/**
 * The log viewer, written as `<slug>/log.html` next to the job's objects.
 * Self-contained (inline CSS and JS, no external resources) so any static
 * file server, S3 included, can serve it.
 *
 * While the job runs the page is LOG_PAGE_HTML: its script follows
 * status.json, appends log.chunks/NNNNNN, switches to the whole `log` when
 * the job has ended, and renders ANSI colours through DOM text nodes only
 * (never innerHTML), so log text cannot inject markup.
 *
 * When the job ends, finalLogPage() replaces it with a page that needs no
 * script at all: title, state, timing and attachments filled in, and the
 * output itself embedded (escaped, colours rendered on the server), up to
 * EMBED_BYTES of it.
 *
 * Kept as TS strings so they ship inside dist/ with no asset copying. The
 * script avoids backticks and dollar-brace, which these templates cannot hold.
 */
import { AnsiHtmlRenderer, escapeHtml } from "./ansi-html.js";
import type { LogStatus } from "./log.js";

const STYLE = `:root { color-scheme: light dark; --bg: #fff; --fg: #1d1d1f; --muted: #666; --line: #ddd; --log-bg: #16181d; --log-fg: #d8dadf; }
@media (prefers-color-scheme: dark) { :root { --bg: #0f1115; --fg: #e6e6e6; --muted: #9a9a9a; --line: #2a2d34; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { padding: 12px 16px; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.15rem; margin: 0 0 6px; overflow-wrap: anywhere; }
.line { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center; margin: 4px 0; }
.state { display: inline-block; padding: 1px 9px; border-radius: 10px; font-weight: 600; font-size: 0.85rem; color: #fff; background: #777; text-transform: uppercase; letter-spacing: 0.03em; }
.state.running { background: #b7791f; }
.state.success { background: #2f855a; }
.state.failure { background: #c53030; }
.state.error { background: #6b46c1; }
.muted { color: var(--muted); }
.details { font-size: 0.9rem; }
.details span { overflow-wrap: anywhere; }
code { font: 0.85rem ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
a { color: #3b82f6; }
#attachments { margin: 6px 0 0; padding-left: 20px; font-size: 0.9rem; }
#attachments:empty { display: none; }
#problem { margin: 8px 16px; padding: 6px 10px; border-left: 4px solid #c53030; font-size: 0.9rem; }
#log { margin: 0; padding: 10px 16px 24px; min-height: 50vh; background: var(--log-bg); color: var(--log-fg); font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap; overflow-wrap: anywhere; tab-size: 8; }
@media (max-width: 600px) { header { padding: 10px; } #log { padding: 8px 10px 20px; font-size: 12px; } }
.b { font-weight: bold; } .d { opacity: 0.7; } .i { font-style: italic; } .u { text-decoration: underline; }
.f0 { color: #5c6370; } .f1 { color: #e06c75; } .f2 { color: #98c379; } .f3 { color: #e5c07b; }
.f4 { color: #61afef; } .f5 { color: #c678dd; } .f6 { color: #56b6c2; } .f7 { color: #d8dadf; }
.f8 { color: #7f848e; } .f9 { color: #ff7b86; } .f10 { color: #b5e890; } .f11 { color: #ffd98a; }
.f12 { color: #8cc8ff; } .f13 { color: #e09cf5; } .f14 { color: #7fdbe6; } .f15 { color: #ffffff; }
.g0 { background: #3a3f4b; } .g1 { background: #8b2f38; } .g2 { background: #3d6b2a; } .g3 { background: #8a6d1f; }
.g4 { background: #2b5c8a; } .g5 { background: #6f3b86; } .g6 { background: #2b6f78; } .g7 { background: #9aa0aa; }
.g8 { background: #5c6370; } .g9 { background: #b3434e; } .g10 { background: #568a3d; } .g11 { background: #a88a2f; }
.g12 { background: #3d79b0; } .g13 { background: #8d52a8; } .g14 { background: #3a8f99; } .g15 { background: #c8ccd4; }
#note { display: block; margin: 10px 0; padding: 6px 10px; border: 1px dashed #7f848e; color: #e5c07b; font: 0.9rem/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; white-space: normal; }
#note a { color: #8cc8ff; }
`;

const SCRIPT = String.raw`"use strict";
(function () {
  var POLL_MS = 2000;
  var FINAL = { success: true, failure: true, error: true };
  var ESC = "\u001b";
  var logEl = document.getElementById("log");
  var decoder = new TextDecoder("utf-8");
  var shownBytes = 0;
  var nextChunk = 0;
  var status = null;
  var done = false;
  var ticker = null;

  function byId(id) { return document.getElementById(id); }
  function setText(id, text) { byId(id).textContent = text; }

  function fetchBytes(name) {
    return fetch(name, { cache: "no-store" }).then(function (response) {
      if (response.status === 404 || response.status === 403) return null;
      if (!response.ok) throw new Error(name + ": HTTP " + response.status);
      return response.arrayBuffer().then(function (buffer) { return new Uint8Array(buffer); });
    });
  }

  // The log from offset on: a Range request where the server honours it, else the whole and a slice.
  function fetchRest(name, offset) {
    var init = { cache: "no-store", headers: offset > 0 ? { Range: "bytes=" + offset + "-" } : {} };
    return fetch(name, init).then(function (response) {
      if (response.status === 404 || response.status === 403) return null;
      if (response.status === 416) return new Uint8Array(0);
      if (!response.ok) throw new Error(name + ": HTTP " + response.status);
      return response.arrayBuffer().then(function (buffer) {
        var bytes = new Uint8Array(buffer);
        return response.status === 206 ? bytes : bytes.subarray(Math.min(offset, bytes.length));
      });
    });
  }

  function chunkName(index) {
    var digits = String(index);
    while (digits.length < 6) digits = "0" + digits;
    return "log.chunks/" + digits;
  }

  // ---- ANSI SGR rendering into DOM nodes ----
  var sgr = { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false };
  var heldText = "";
  var SEQUENCE = /\u001b\[([0-?]*)[ -\/]*([@-~])|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]?|\r\n?/g;
  var COMPLETE = /^(?:\u001b\[[0-?]*[ -\/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_])/;

  function color256(n) {
    if (n < 16) return n;
    if (n < 232) {
      var levels = [0, 95, 135, 175, 215, 255];
      n -= 16;
      return "rgb(" + levels[Math.floor(n / 36)] + "," + levels[Math.floor(n / 6) % 6] + "," + levels[n % 6] + ")";
    }
    var gray = 8 + (n - 232) * 10;
    return "rgb(" + gray + "," + gray + "," + gray + ")";
  }

  function clampByte(value) { return Math.max(0, Math.min(255, value | 0)); }

  function applySgr(paramText) {
    var params = paramText === "" ? [0] : paramText.split(/[;:]/).map(function (p) { return p === "" ? 0 : parseInt(p, 10); });
    for (var i = 0; i < params.length; i++) {
      var p = params[i];
      if (p === 0) sgr = { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false };
      else if (p === 1) sgr.bold = true;
      else if (p === 2) sgr.dim = true;
      else if (p === 3) sgr.italic = true;
      else if (p === 4) sgr.underline = true;
      else if (p === 7) sgr.inverse = true;
      else if (p === 22) { sgr.bold = false; sgr.dim = false; }
      else if (p === 23) sgr.italic = false;
      else if (p === 24) sgr.underline = false;
      else if (p === 27) sgr.inverse = false;
      else if (p >= 30 && p <= 37) sgr.fg = p - 30;
      else if (p === 39) sgr.fg = null;
      else if (p >= 40 && p <= 47) sgr.bg = p - 40;
      else if (p === 49) sgr.bg = null;
      else if (p >= 90 && p <= 97) sgr.fg = p - 90 + 8;
      else if (p >= 100 && p <= 107) sgr.bg = p - 100 + 8;
      else if (p === 38 || p === 48) {
        var value = null;
        if (params[i + 1] === 5 && params[i + 2] !== undefined) {
          value = color256(Math.min(255, params[i + 2]));
          i += 2;
        } else if (params[i + 1] === 2 && params[i + 4] !== undefined) {
          value = "rgb(" + clampByte(params[i + 2]) + "," + clampByte(params[i + 3]) + "," + clampByte(params[i + 4]) + ")";
          i += 4;
        } else {
          break;
        }
        if (p === 38) sgr.fg = value; else sgr.bg = value;
      }
    }
  }

  function emit(target, text) {
    if (text === "") return;
    var fg = sgr.inverse ? sgr.bg : sgr.fg;
    var bg = sgr.inverse ? (sgr.fg === null ? 7 : sgr.fg) : sgr.bg;
    if (sgr.inverse && fg === null) fg = 0;
    if (fg === null && bg === null && !sgr.bold && !sgr.dim && !sgr.italic && !sgr.underline) {
      target.appendChild(document.createTextNode(text));
      return;
    }
    var span = document.createElement("span");
    var classes = [];
    if (sgr.bold) classes.push("b");
    if (sgr.dim) classes.push("d");
    if (sgr.italic) classes.push("i");
    if (sgr.underline) classes.push("u");
    if (typeof fg === "number") classes.push("f" + fg); else if (fg !== null) span.style.color = fg;
    if (typeof bg === "number") classes.push("g" + bg); else if (bg !== null) span.style.backgroundColor = bg;
    span.className = classes.join(" ");
    span.textContent = text;
    target.appendChild(span);
  }

  function render(text, final) {
    text = heldText + text;
    heldText = "";
    if (!final) {
      // An escape sequence or CR/LF pair cut at the end waits for the rest.
      var esc = text.lastIndexOf(ESC);
      if (esc >= 0 && text.length - esc < 64 && !COMPLETE.test(text.slice(esc))) {
        heldText = text.slice(esc);
        text = text.slice(0, esc);
      } else if (text.charAt(text.length - 1) === "\r") {
        heldText = "\r";
        text = text.slice(0, -1);
      }
    }
    var fragment = document.createDocumentFragment();
    var last = 0;
    var match;
    SEQUENCE.lastIndex = 0;
    while ((match = SEQUENCE.exec(text)) !== null) {
      emit(fragment, text.slice(last, match.index));
      last = SEQUENCE.lastIndex;
      if (match[0].charAt(0) === "\r") emit(fragment, "\n");
      else if (match[2] === "m") applySgr(match[1]);
    }
    emit(fragment, text.slice(last));
    logEl.appendChild(fragment);
  }

  // ---- following the job ----
  function atBottom() {
    var page = document.scrollingElement || document.documentElement;
    return page.scrollHeight - page.scrollTop - page.clientHeight < 48;
  }

  function append(bytes) {
    var follow = status !== null && status.state === "running" && atBottom();
    shownBytes += bytes.length;
    render(decoder.decode(bytes, { stream: true }), false);
    if (follow) window.scrollTo(0, (document.scrollingElement || document.documentElement).scrollHeight);
  }

  function finishOutput() {
    render(decoder.decode(), true);
    done = true;
  }

  function duration(ms) {
    var seconds = Math.max(0, Math.round(ms / 1000));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    return (h > 0 ? h + "h " : "") + (h > 0 || m > 0 ? m + "m " : "") + s + "s";
  }

  function showTime() {
    if (status === null) return;
    var started = new Date(status.started);
    if (isNaN(started.getTime())) return;
    var ended = status.ended ? new Date(status.ended) : null;
    var end = ended !== null && !isNaN(ended.getTime()) ? ended : new Date();
    setText("time", "started " + started.toLocaleString() + ", " + (ended ? "took " : "running for ") + duration(end - started));
  }

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function showStatus() {
    var state = typeof status.state === "string" ? status.state : "unknown";
    var title = typeof status.title === "string" && status.title !== "" ? status.title : "Test log";
    setText("title", title);
    document.title = state + ": " + title;
    var badge = byId("state");
    badge.textContent = state;
    badge.className = "state " + state.replace(/[^a-z]/g, "");
    setText("description", typeof status.description === "string" ? status.description : "");
    setText("context", typeof status.context === "string" ? status.context : "");
    setText("worker", typeof status.worker === "string" ? "on " + status.worker : "");
    var subject = byId("subject");
    subject.textContent = "";
    var repo = typeof status.repo === "string" && /^[\w.-]+\/[\w.-]+$/.test(status.repo) ? status.repo : null;
    if (repo !== null) {
      if (typeof status.pull === "number" && Number.isInteger(status.pull)) {
        subject.appendChild(link("https://github.com/" + repo + "/pull/" + status.pull, repo + "#" + status.pull));
        subject.appendChild(document.createTextNode(" "));
      } else {
        subject.appendChild(document.createTextNode(repo + " "));
      }
      if (typeof status.sha === "string" && /^[0-9a-f]{7,64}$/.test(status.sha)) {
        var code = document.createElement("code");
        code.appendChild(link("https://github.com/" + repo + "/commit/" + status.sha, status.sha.slice(0, 8)));
        subject.appendChild(code);
      }
    }
    var list = byId("attachments");
    list.textContent = "";
    (Array.isArray(status.attachments) ? status.attachments : []).forEach(function (name) {
      if (typeof name !== "string") return;
      var item = document.createElement("li");
      item.appendChild(link("attachments/" + name.split("/").map(encodeURIComponent).join("/"), name));
      list.appendChild(item);
    });
    showTime();
  }

  function problem(text) {
    var box = byId("problem");
    box.textContent = text;
    box.hidden = text === "";
  }

  function later(ms) { setTimeout(poll, ms); }

  function stop() {
    if (ticker !== null) clearInterval(ticker);
    ticker = null;
  }

  async function poll() {
    try {
      var raw = await fetchBytes("status.json");
      if (raw === null) {
        // No status.json: a plain log directory, or a job that has not started writing yet.
        var plain = await fetchRest("log", shownBytes);
        if (plain !== null) {
          append(plain);
          finishOutput();
          setText("state", "log");
          problem("");
          return;
        }
        problem("Waiting for the job to start...");
        return later(POLL_MS);
      }
      status = JSON.parse(new TextDecoder("utf-8").decode(raw));
      showStatus();
      if (FINAL[status.state] === true) {
        // The log starts with everything the chunks held: only the rest is new.
        var log = await fetchRest("log", shownBytes);
        if (log !== null) {
          append(log);
          finishOutput();
          stop();
          problem("");
          return;
        }
      }
      var gap = false;
      var count = typeof status.chunks === "number" ? status.chunks : 0;
      while (nextChunk < count) {
        var chunk = await fetchBytes(chunkName(nextChunk));
        if (chunk === null) {
          // Removed because the job just ended: status.json will say so, and the log has it all.
          gap = true;
          break;
        }
        append(chunk);
        nextChunk++;
      }
      if (FINAL[status.state] === true) {
        problem("The job has ended, but its complete log is not available (yet).");
        return later(POLL_MS * 2);
      }
      problem("");
      later(gap ? 300 : POLL_MS);
    } catch (error) {
      problem("Cannot load the log right now (" + (error && error.message ? error.message : error) + "); retrying.");
      later(POLL_MS * 2);
    }
  }

  ticker = setInterval(function () { if (!done) showTime(); }, 1000);
  poll();
})();
`;

function documentStart(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>
${STYLE}</style>
</head>
<body>
`;
}

interface HeaderHtml {
  readonly title: string;
  readonly state: string;
  readonly description: string;
  readonly context: string;
  /** Markup, already escaped. */
  readonly subject: string;
  readonly worker: string;
  readonly time: string;
  /** Markup, already escaped: the <li> items. */
  readonly attachments: string;
}

function header(fields: HeaderHtml): string {
  const stateClass = fields.state.replace(/[^a-z]/g, "");
  return `<header>
<h1 id="title">${escapeHtml(fields.title)}</h1>
<div class="line"><span id="state" class="state ${stateClass}">${escapeHtml(fields.state)}</span><span id="description">${escapeHtml(fields.description)}</span></div>
<div class="line details muted">
<span id="context">${escapeHtml(fields.context)}</span><span id="subject">${fields.subject}</span><span id="worker">${escapeHtml(fields.worker)}</span><span id="time">${escapeHtml(fields.time)}</span>
</div>
<div class="line details"><a href="log">raw log</a><a href="status.json">status.json</a><a href="#end">end of log</a></div>
<ul id="attachments">${fields.attachments}</ul>
</header>
`;
}

/** The live viewer, written when a job starts. */
export const LOG_PAGE_HTML = `${documentStart("Test log")}${header({
  title: "Test log",
  state: "loading",
  description: "",
  context: "",
  subject: "",
  worker: "",
  time: "",
  attachments: "",
})}<noscript><p style="margin: 8px 16px">This viewer needs JavaScript while the job runs. The complete output is in <a href="log">log</a> once the job has ended,
and this page then shows it without JavaScript; while it runs, the output so far is in log.chunks/000000, log.chunks/000001, and so on.</p></noscript>
<div id="problem" hidden></div>
<pre id="log"></pre>
<div id="end"></div>
<script>
${SCRIPT}</script>
</body>
</html>
`;

/** Output embedded in the final page at most; a longer log shows its start and its end. */
export const EMBED_BYTES = 10 * 1024 * 1024;
/** Of EMBED_BYTES, how much the start of a long log gets; the end (where failures are) gets the rest. */
const HEAD_BYTES = 2 * 1024 * 1024;
/** How far to look for a line break to cut a long log at. */
const CUT_WINDOW = 64 * 1024;

/** The job's output, readable by byte range (the log streamer's spool file). */
export interface LogSource {
  readonly size: number;
  read(start: number, end: number): Promise<Buffer>;
  stream(start: number, end: number): AsyncIterable<Buffer>;
}

function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor(seconds / 60) % 60;
  return `${h > 0 ? `${h}h ` : ""}${h > 0 || m > 0 ? `${m}m ` : ""}${seconds % 60}s`;
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

function link(href: string, text: string): string {
  return `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;
}

/** The same links the live page makes: pull request and commit on GitHub, when they look sane. */
function subjectHtml(status: LogStatus): string {
  if (!/^[\w.-]+\/[\w.-]+$/.test(status.repo)) return "";
  const repo = status.repo;
  const pull =
    typeof status.pull === "number" && Number.isInteger(status.pull)
      ? `${link(`https://github.com/${repo}/pull/${status.pull}`, `${repo}#${status.pull}`)} `
      : `${escapeHtml(repo)} `;
  const commit = /^[0-9a-f]{7,64}$/.test(status.sha)
    ? `<code>${link(`https://github.com/${repo}/commit/${status.sha}`, status.sha.slice(0, 8))}</code>`
    : "";
  return pull + commit;
}

function timeText(status: LogStatus): string {
  const started = new Date(status.started);
  if (Number.isNaN(started.getTime())) return "";
  const ended = status.ended === null ? null : new Date(status.ended);
  if (ended === null || Number.isNaN(ended.getTime())) return `started ${formatTime(started)}`;
  return `started ${formatTime(started)}, took ${duration(ended.getTime() - started.getTime())}`;
}

async function* rendered(source: LogSource, start: number, end: number): AsyncGenerator<string> {
  const renderer = new AnsiHtmlRenderer();
  for await (const piece of source.stream(start, end)) yield renderer.push(piece);
  yield renderer.end();
}

/** Where to cut: just after the last line break before at (or at, when there is none near). */
async function cutBefore(source: LogSource, at: number): Promise<number> {
  const from = Math.max(0, at - CUT_WINDOW);
  const newline = (await source.read(from, at)).lastIndexOf(10);
  return newline < 0 ? at : from + newline + 1;
}

/** Where to resume: just after the first line break from at on (or at, when there is none near). */
async function cutAfter(source: LogSource, at: number): Promise<number> {
  const newline = (await source.read(at, Math.min(source.size, at + CUT_WINDOW))).indexOf(10);
  return newline < 0 ? at : at + newline + 1;
}

async function* embeddedLog(source: LogSource): AsyncGenerator<string> {
  if (source.size <= EMBED_BYTES) {
    yield* rendered(source, 0, source.size);
    return;
  }
  const headEnd = await cutBefore(source, HEAD_BYTES);
  const tailStart = await cutAfter(source, source.size - (EMBED_BYTES - HEAD_BYTES));
  yield* rendered(source, 0, headEnd);
  yield `<span id="note">${formatBytes(tailStart - headEnd)} of output left out here. The ${link("log", "raw log")} has all ${formatBytes(source.size)}.</span>`;
  yield* rendered(source, tailStart, source.size);
}

/**
 * The page that replaces the live viewer when the job has ended: everything
 * in the markup, nothing left for a script to fetch. Produced piece by
 * piece, so the log is never in memory as a whole.
 */
export async function* finalLogPage(status: LogStatus, source: LogSource): AsyncGenerator<string> {
  const title = status.title === "" ? "Test log" : status.title;
  yield documentStart(`${status.state}: ${title}`);
  yield header({
    title,
    state: status.state,
    description: status.description,
    context: status.context,
    subject: subjectHtml(status),
    worker: `on ${status.worker}`,
    time: timeText(status),
    attachments: status.attachments
      .map(
        (name) =>
          `<li>${link(`attachments/${name.split("/").map(encodeURIComponent).join("/")}`, name)}</li>`,
      )
      .join(""),
  });
  yield '<pre id="log">';
  yield* embeddedLog(source);
  yield '</pre>\n<div id="end"></div>\n</body>\n</html>\n';
}
