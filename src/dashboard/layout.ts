/** The page shell: head, navigation, styles for wide and narrow screens, the live-update script. */
import { type Html, html, raw } from "./html.js";

const STYLE = raw(`
:root { color-scheme: light dark; --muted: #6a737d; --line: #d0d7de; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --run: #0969da; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; padding: 0 0 2rem; }
header { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: center; padding: .6rem 1rem; border-bottom: 1px solid var(--line); }
header strong { margin-right: .5rem; }
header a { text-decoration: none; }
header .who { margin-left: auto; font-size: .9em; color: var(--muted); }
main { padding: 0 1rem; max-width: 75rem; margin: 0 auto; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .92em; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, monospace; font-size: .9em; }
pre.log { background: #1e1e1e; color: #ddd; padding: .6rem; overflow: auto; max-height: 32rem; white-space: pre-wrap; word-break: break-all; }
.muted { color: var(--muted); }
.success { color: var(--ok); font-weight: 600; } .failure, .error, .lost { color: var(--bad); font-weight: 600; }
.running, .leased { color: var(--run); font-weight: 600; } .queued, .cancelled, .superseded { color: var(--warn); }
form.inline { display: inline; margin: 0; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: .5rem 0 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: .85em; }
input, select, button { font: inherit; padding: .25rem .4rem; }
.notice { padding: .6rem .8rem; border: 1px solid var(--line); border-left: 4px solid var(--run); margin: 1rem 0; }
.notice.refused { border-left-color: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: .6rem; }
.card { border: 1px solid var(--line); padding: .5rem .7rem; border-radius: 6px; }
@media (max-width: 40rem) { body { font-size: 14px; } th, td { padding: .25rem .3rem; } .wide { display: none; } }
`);

/** Swap each live section for the fresh HTML the server sends; without EventSource the page stays as served. */
const LIVE_SCRIPT = `(function () {
  if (!window.EventSource) return;
  var source = new EventSource("/live?path=" + encodeURIComponent(location.pathname + location.search));
  source.onmessage = function (event) {
    var update = JSON.parse(event.data);
    var target = document.getElementById(update.id);
    if (!target) return;
    var log = target.querySelector("pre.log");
    var atEnd = !log || log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    target.innerHTML = update.html;
    var fresh = target.querySelector("pre.log");
    if (fresh && atEnd) fresh.scrollTop = fresh.scrollHeight;
  };
})();`;

const NAV: readonly (readonly [string, string])[] = [
  ["/", "Overview"],
  ["/queues", "Queues"],
  ["/workers", "Workers"],
  ["/jobs", "History"],
  ["/flaky", "Flaky contexts"],
];

export interface LayoutOptions {
  readonly title: string;
  readonly admin: boolean;
  /** The request's path and query, for the login form's way back. */
  readonly path: string;
  /** Nonce of the inline script (Content-Security-Policy); no script when absent. */
  readonly nonce?: string;
}

export function layout(options: LayoutOptions, body: Html): Html {
  const who = options.admin
    ? html`<span class="who">admin · <form class="inline" method="post" action="/logout"><button>Log out</button></form></span>`
    : html`<span class="who">read-only · <a href="/login?next=${encodeURIComponent(options.path)}">Admin login</a></span>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · hangar</title>
<style>${STYLE}</style>
</head>
<body>
<header><strong>hangar</strong>${NAV.map(([href, label]) => html`<a href="${href}">${label}</a>`)}${who}</header>
<main>
<h1>${options.title}</h1>
${body}
</main>
${options.nonce === undefined ? "" : html`<script nonce="${options.nonce}">${raw(LIVE_SCRIPT)}</script>`}
</body>
</html>
`;
}
