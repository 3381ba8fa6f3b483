/** Workers: what they can do, what they run, when they last said they are alive. */
import type { WorkerRecord } from "../../jobs/types.js";
import { ago, timeText } from "../format.js";
import { type Html, html } from "../html.js";
import type { PageRoute } from "../view.js";
import { actionButton } from "./common.js";

export function workerTable(workers: readonly WorkerRecord[], now = Date.now()): Html {
  if (workers.length === 0) return html`<p class="muted">No worker has reported yet.</p>`;
  return html`<div class="scroll"><table>
<thead><tr><th>worker</th><th>capabilities</th><th>running</th><th>last heartbeat</th><th class="wide">queues</th><th class="wide">since</th><th></th></tr></thead>
<tbody>${workers.map(
    (worker) => html`<tr data-worker="${worker.name}">
<td>${worker.name}${worker.draining ? html` <span class="queued">(draining)</span>` : ""}</td>
<td>${worker.capabilities.length === 0 ? html`<span class="muted">none</span>` : worker.capabilities.join(", ")}</td>
<td>${worker.runningJobs.length === 0 ? html`<span class="muted">idle</span>` : worker.runningJobs.map((id, i) => html`${i > 0 ? ", " : ""}<a href="/jobs/${encodeURIComponent(id)}">${id}</a>`)}</td>
<td title="${timeText(worker.heartbeatAt)}">${ago(worker.heartbeatAt, now)}</td>
<td class="wide">${worker.queues.join(", ")}</td>
<td class="wide">${timeText(worker.startedAt)}</td>
<td>${worker.draining ? "" : actionButton("drain", { worker: worker.name }, "Drain")}</td>
</tr>`,
  )}</tbody></table></div>`;
}

export const workersPage: PageRoute = async ({ sources }) => ({
  title: "Workers",
  sections: [
    { id: "workers", live: true, render: async () => workerTable(await sources.history.listWorkers()) },
  ],
});
