/** One job: its record, the tail of its log (live while it runs), and what an admin can do with it. */
import type { JobRecord } from "../../jobs/types.js";
import { jobDuration, outcome, timeText } from "../format.js";
import { type Html, html } from "../html.js";
import { readLogTail } from "../log-tail.js";
import type { DashboardSources, PageRoute } from "../view.js";
import { actionButton, historyLink, logLink, pullCell } from "./common.js";

const ACTIVE = new Set<JobRecord["state"]>(["queued", "leased", "running"]);

function details(job: JobRecord): Html {
  const rows: [string, Html | string][] = [
    [
      "result",
      html`<span class="${outcome(job)}">${outcome(job)}</span>${job.description ? html` — ${job.description}` : ""}`,
    ],
    ["repository", historyLink({ repo: job.repo }, job.repo)],
    ["PR / commit", pullCell(job)],
    ["context", historyLink({ repo: job.repo, context: job.context }, job.context)],
    ["queue", job.queue],
    ["attempt", String(job.attempt)],
    ["worker", job.worker ?? ""],
    ["queued", timeText(job.queuedAt)],
    ["started", timeText(job.startedAt)],
    ["ended", timeText(job.endedAt)],
    ["duration", jobDuration(job)],
    ["log", logLink(job)],
  ];
  const actions: Html[] = [];
  if (ACTIVE.has(job.state)) actions.push(actionButton("cancel", { job: job.id }, "Cancel job"));
  if (job.pull !== null) {
    actions.push(
      actionButton(
        "retry",
        { repo: job.repo, pull: String(job.pull), context: job.context },
        "Retry this context",
      ),
    );
  }
  return html`<div class="scroll"><table class="job">${rows.map(
    ([name, value]) => html`<tr><th>${name}</th><td data-field="${name}">${value}</td></tr>`,
  )}</table></div>
${actions.length === 0 ? "" : html`<p>${actions}</p>`}`;
}

async function tail(sources: DashboardSources, job: JobRecord): Promise<Html> {
  if (sources.store === undefined)
    return html`<p class="muted">This dashboard has no store to read logs from.</p>`;
  const found = await readLogTail(sources.store, job.id).catch(() => null);
  if (found === null) {
    return html`<p class="muted">${ACTIVE.has(job.state) ? "No output yet." : "No log stored for this job."}</p>`;
  }
  return html`<p class="muted">${found.state === "running" ? "live" : found.state}${found.truncated ? " · showing the end of the output" : ""}</p>
<pre class="log" id="log-text">${found.text}</pre>`;
}

export const jobPage: PageRoute = async ({ url, sources }) => {
  const id = decodeURIComponent(url.pathname.slice("/jobs/".length));
  const first = await sources.history.getJob(id);
  if (first === null) return null;
  // Both sections read the job again, so a live update shows its current state.
  const current = async () => (await sources.history.getJob(id)) ?? first;
  return {
    title: `${first.context} · ${first.repo}${first.pull === null ? "" : `#${first.pull}`}`,
    sections: [
      { id: "job", live: true, render: async () => details(await current()) },
      {
        id: "tail",
        live: true,
        render: async () => html`<h2>Output</h2>${await tail(sources, await current())}`,
      },
    ],
  };
};
