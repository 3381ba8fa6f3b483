/** The queues with their waiting entries: what `hangar queue inspect` prints. */
import { summarizeEntry } from "../../queue/summary.js";
import { type Html, html } from "../html.js";
import type { DashboardSources, PageRoute } from "../view.js";

export const QUEUE_ENTRIES_SHOWN = 20;

async function queueSection(sources: DashboardSources, name: string, limit: number): Promise<Html> {
  const kind = sources.queues.get(name);
  let info: Awaited<ReturnType<DashboardSources["queue"]["inspect"]>>;
  try {
    info = await sources.queue.inspect(name, limit);
  } catch (error) {
    return html`<h2>${name}</h2><p class="notice refused">cannot read this queue now: ${String(error)}</p>`;
  }
  // An AMQP client sees only its own unacked deliveries, so it cannot count other workers'.
  const unacked = sources.queue.driver === "amqp" ? "?" : String(info.unacked);
  const hidden = info.ready - info.entries.length;
  return html`<h2 id="queue-${name}">${name} <span class="muted">(${kind ?? "queue"})</span></h2>
<p><span data-ready="${info.ready}">${info.ready} ready</span>, ${unacked} unacked</p>
${
  info.entries.length === 0
    ? ""
    : html`<div class="scroll"><table><thead><tr><th>priority</th><th>entry</th></tr></thead><tbody>${info.entries.map(
        (entry) =>
          html`<tr class="entry"><td class="num">${entry.priority}</td><td>${entry.redelivered ? html`<span class="muted">(redelivered)</span> ` : ""}${summarizeEntry(kind, entry.body)}</td></tr>`,
      )}</tbody></table></div>`
}
${limit > 0 && hidden > 0 ? html`<p class="muted">… and ${hidden} more</p>` : ""}`;
}

export async function queueSummary(sources: DashboardSources): Promise<Html> {
  const rows: Html[] = [];
  for (const name of sources.queues.keys()) {
    try {
      const info = await sources.queue.inspect(name, 0);
      const unacked = sources.queue.driver === "amqp" ? "?" : String(info.unacked);
      rows.push(
        html`<tr><td><a href="/queues#queue-${name}">${name}</a></td><td class="num">${info.ready}</td><td class="num">${unacked}</td></tr>`,
      );
    } catch {
      rows.push(html`<tr><td>${name}</td><td colspan="2" class="error">unreachable</td></tr>`);
    }
  }
  return html`<div class="scroll"><table><thead><tr><th>queue</th><th>ready</th><th>unacked</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

export const queuesPage: PageRoute = async ({ sources }) => ({
  title: "Queues",
  sections: [
    {
      id: "queues",
      live: true,
      render: async () => {
        const parts: Html[] = [];
        for (const name of sources.queues.keys())
          parts.push(await queueSection(sources, name, QUEUE_ENTRIES_SHOWN));
        return html`${parts}`;
      },
    },
  ],
});
