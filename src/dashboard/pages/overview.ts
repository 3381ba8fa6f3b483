/** The front page: what runs now, how full the queues are, who works, what just finished. */
import { html } from "../html.js";
import type { PageRoute } from "../view.js";
import { jobTable } from "./common.js";
import { queueSummary } from "./queues.js";
import { workerTable } from "./workers.js";

export const RECENT_SHOWN = 15;

export const overviewPage: PageRoute = async ({ sources }) => ({
  title: "Overview",
  sections: [
    {
      id: "running",
      live: true,
      render: async () => {
        const [leased, running] = await Promise.all([
          sources.history.listJobs({ state: "leased", limit: 200 }),
          sources.history.listJobs({ state: "running", limit: 200 }),
        ]);
        return html`<h2>Running</h2>${jobTable([...running, ...leased], "Nothing runs right now.")}`;
      },
    },
    {
      id: "queue-summary",
      live: true,
      render: async () => html`<h2>Queues</h2>${await queueSummary(sources)}`,
    },
    {
      id: "worker-summary",
      live: true,
      render: async () => html`<h2>Workers</h2>${workerTable(await sources.history.listWorkers())}`,
    },
    {
      id: "recent",
      live: true,
      render: async () =>
        html`<h2>Recently finished</h2>${jobTable(await sources.history.listJobs({ state: "done", limit: RECENT_SHOWN }), "No finished jobs yet.")}
<p><a href="/jobs">All history →</a></p>`,
    },
  ],
});
