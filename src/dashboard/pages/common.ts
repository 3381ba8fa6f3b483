/** Pieces several pages share: job tables, action buttons, links into the history. */
import type { JobRecord } from "../../jobs/types.js";
import { jobDuration, outcome, shortSha, timeText } from "../format.js";
import { type Html, html } from "../html.js";

export function historyLink(filter: Readonly<Record<string, string | number>>, label: string): Html {
  const query = new URLSearchParams(Object.entries(filter).map(([k, v]): [string, string] => [k, String(v)]));
  return html`<a href="/jobs?${query.toString()}">${label}</a>`;
}

/** A POST form with one button; the server refuses it without the admin token. */
export function actionButton(action: string, fields: Readonly<Record<string, string>>, label: string): Html {
  return html`<form class="inline" method="post" action="/actions/${action}">${Object.entries(fields).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  )}<button type="submit">${label}</button></form>`;
}

export const jobLink = (job: JobRecord) =>
  html`<a href="/jobs/${encodeURIComponent(job.id)}">${job.context}</a>`;

export function pullCell(job: JobRecord): Html {
  if (job.pull === null) return html`<code>${shortSha(job.sha)}</code>`;
  return html`${historyLink({ repo: job.repo, pull: job.pull }, `#${job.pull}`)} <code class="wide">${shortSha(job.sha)}</code>`;
}

export function logLink(job: JobRecord): Html {
  return job.logUrl === null
    ? html`<span class="muted">no log</span>`
    : html`<a href="${job.logUrl}">log</a>`;
}

export function jobTable(jobs: readonly JobRecord[], empty: string, now = Date.now()): Html {
  if (jobs.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<div class="scroll"><table>
<thead><tr><th>context</th><th>repository</th><th>PR</th><th>result</th><th>duration</th><th class="wide">worker</th><th class="wide">queued</th><th>log</th></tr></thead>
<tbody>${jobs.map(
    (job) => html`<tr data-job="${job.id}">
<td>${jobLink(job)}${job.attempt > 1 ? html` <span class="muted">(attempt ${job.attempt})</span>` : ""}</td>
<td>${historyLink({ repo: job.repo }, job.repo)}</td>
<td>${pullCell(job)}</td>
<td class="${outcome(job)}">${outcome(job)}</td>
<td class="num">${jobDuration(job, now)}</td>
<td class="wide">${job.worker ?? ""}</td>
<td class="wide">${timeText(job.queuedAt)}</td>
<td>${logLink(job)}</td>
</tr>`,
  )}</tbody></table></div>`;
}
