/** The job history, filtered by query parameters: repo, pull, context, state, result, page. */
import type { JobFilter, JobResult, JobState } from "../../jobs/types.js";
import { type Html, html } from "../html.js";
import type { PageRoute } from "../view.js";
import { jobTable } from "./common.js";

export const PAGE_SIZE = 50;

const STATES: readonly JobState[] = [
  "queued",
  "leased",
  "running",
  "done",
  "lost",
  "superseded",
  "cancelled",
];
const RESULTS: readonly JobResult[] = ["success", "failure", "error"];

export interface HistoryQuery {
  readonly filter: JobFilter;
  readonly page: number;
}

/** Unknown or malformed parameters are ignored rather than refused: a hand-edited URL still shows something. */
export function parseHistoryQuery(params: URLSearchParams): HistoryQuery {
  const text = (name: string) => {
    const value = params.get(name)?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const whole = (name: string) => {
    const value = text(name);
    return value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
  };
  const repo = text("repo");
  const context = text("context");
  const pull = whole("pull");
  const state = STATES.find((s) => s === text("state"));
  const result = RESULTS.find((r) => r === text("result"));
  const page = Math.max(1, whole("page") ?? 1);
  return {
    page,
    filter: {
      ...(repo === undefined ? {} : { repo }),
      ...(pull === undefined || pull === 0 ? {} : { pull }),
      ...(context === undefined ? {} : { context }),
      ...(state === undefined ? {} : { state }),
      ...(result === undefined ? {} : { result }),
    },
  };
}

function options(values: readonly string[], chosen: string | undefined): Html[] {
  return [
    html`<option value="">any</option>`,
    ...values.map((v) => html`<option value="${v}"${v === chosen ? html` selected` : ""}>${v}</option>`),
  ];
}

function filterForm({ filter }: HistoryQuery): Html {
  return html`<form class="filters" method="get" action="/jobs">
<label>repository <input name="repo" value="${filter.repo ?? ""}" placeholder="owner/name" size="18"></label>
<label>PR <input name="pull" value="${filter.pull ?? ""}" inputmode="numeric" size="5"></label>
<label>context <input name="context" value="${filter.context ?? ""}" size="18"></label>
<label>state <select name="state">${options(STATES, filter.state)}</select></label>
<label>result <select name="result">${options(RESULTS, filter.result)}</select></label>
<button type="submit">Filter</button> <a href="/jobs">clear</a>
</form>`;
}

function pageLink(params: URLSearchParams, page: number, label: string): Html {
  const next = new URLSearchParams(params);
  next.set("page", String(page));
  return html`<a href="/jobs?${next.toString()}">${label}</a>`;
}

export const historyPage: PageRoute = async ({ url, sources }) => {
  const query = parseHistoryQuery(url.searchParams);
  const { filter, page } = query;
  const what = [
    filter.repo,
    filter.pull === undefined ? undefined : `#${filter.pull}`,
    filter.context,
    filter.state,
    filter.result,
  ].filter((part) => part !== undefined);
  return {
    title: what.length === 0 ? "History" : `History: ${what.join(" ")}`,
    sections: [
      { id: "filters", live: false, render: async () => filterForm(query) },
      {
        id: "history",
        live: page === 1,
        render: async () => {
          const offset = (page - 1) * PAGE_SIZE;
          const jobs = await sources.history.listJobs({ ...filter, limit: PAGE_SIZE + 1, offset });
          const more = jobs.length > PAGE_SIZE;
          const nav = [
            page > 1 ? pageLink(url.searchParams, page - 1, "← newer") : undefined,
            more ? pageLink(url.searchParams, page + 1, "older →") : undefined,
          ].filter((link) => link !== undefined);
          return html`${jobTable(jobs.slice(0, PAGE_SIZE), "No jobs match.")}
${nav.length === 0 ? "" : html`<p>${nav.map((link, i) => html`${i > 0 ? " · " : ""}${link}`)} <span class="muted">page ${page}</span></p>`}`;
        },
      },
    ],
  };
};
