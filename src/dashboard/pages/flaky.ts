/** Per-context failure rates, the flakiest first. */
import { percent } from "../format.js";
import { html } from "../html.js";
import type { PageRoute } from "../view.js";
import { historyLink } from "./common.js";

export const FLAKY_SHOWN = 100;

export const flakyPage: PageRoute = async ({ sources }) => ({
  title: "Flaky contexts",
  sections: [
    {
      id: "flaky",
      live: false,
      render: async () => {
        const rates = await sources.history.failureRates(FLAKY_SHOWN);
        if (rates.length === 0) return html`<p class="muted">No finished jobs yet.</p>`;
        return html`<p class="muted">Failures and errors of finished jobs per context, most (relative) first.</p>
<div class="scroll"><table><thead><tr><th>context</th><th>repository</th><th>failure rate</th><th>failed</th><th>runs</th></tr></thead>
<tbody>${rates.map(
          (rate) => html`<tr data-context="${rate.context}">
<td>${historyLink({ repo: rate.repo, context: rate.context }, rate.context)}</td>
<td>${historyLink({ repo: rate.repo }, rate.repo)}</td>
<td class="num">${percent(rate.failures, rate.runs)}</td>
<td class="num">${historyLink({ repo: rate.repo, context: rate.context, result: "failure" }, String(rate.failures))}</td>
<td class="num">${rate.runs}</td>
</tr>`,
        )}</tbody></table></div>`;
      },
    },
  ],
});
