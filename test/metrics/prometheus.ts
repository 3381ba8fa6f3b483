/** /metrics read through a real Prometheus text-format parser, and the samples looked up by labels. */
import parsePrometheusTextFormat from "parse-prometheus-text-format";

export type Families = ReturnType<typeof parsePrometheusTextFormat>;

export function parseMetrics(text: string): Families {
  return parsePrometheusTextFormat(text);
}

export async function scrape(url: string): Promise<Families> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return parseMetrics(await response.text());
}

type Sample = Families[number]["metrics"][number];

function matching(families: Families, name: string, labels: Readonly<Record<string, string>>): Sample[] {
  const family = families.find((f) => f.name === name);
  return (family?.metrics ?? []).filter((sample) =>
    Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value),
  );
}

/** The sum of a counter's or gauge's samples with these labels (0 when there are none). */
export function value(
  families: Families,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  return matching(families, name, labels).reduce((sum, sample) => sum + Number(sample.value ?? 0), 0);
}

/**
 * A histogram's observation count over its series with these labels. The
 * parser keeps a histogram's buckets but folds away its labels, `_count`
 * and `_sum` when the series have labels, so these come from the `_count`
 * lines of the text, which parseMetrics() has already accepted as valid.
 */
export function histogramCount(
  text: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  let total = 0;
  for (const line of text.split("\n")) {
    const match = new RegExp(`^${name}_count(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    if (!match) continue;
    const found = Object.fromEntries(
      [...(match[1] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) total += Number(match[2]);
  }
  return total;
}
