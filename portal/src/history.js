// history/summary: the BigQuery trend numbers, copied into one document by the daily export.
import { h } from "./dom.js";
import { formatTime } from "./time.js";

const WEEKS_SHOWN = 6;
const COLUMNS = ["resources", "created", "updated", "deleted", "doc_files_changed"];

export function renderHistory(root, snapshot) {
  if (!snapshot.exists()) {
    root.replaceChildren(h("p", { class: "empty" }, "No history yet (the daily export writes it)."));
    return;
  }
  const summary = snapshot.data();
  const weeks = (summary.weekly ?? []).slice(-WEEKS_SHOWN).reverse();
  const environments = Object.entries(summary.by_environment ?? {})
    .sort(([, a], [, b]) => b - a)
    .map(([name, count]) => `${name} ${count}`)
    .join(" · ");
  root.replaceChildren(
    h("p", { class: "muted" }, `as of ${summary.as_of ?? "?"} · generated ${formatTime(summary.generated_at)}`),
    h(
      "table",
      { class: "weeks" },
      h(
        "thead",
        {},
        h("tr", {}, h("th", {}, "week of"), ...COLUMNS.map((c) => h("th", {}, c.replaceAll("_", " ")))),
      ),
      h(
        "tbody",
        {},
        weeks.map((week) =>
          h(
            "tr",
            {},
            h("td", {}, week.period_start),
            ...COLUMNS.map((c) => h("td", { class: "num" }, String(week[c] ?? 0))),
          ),
        ),
      ),
    ),
    environments ? h("p", {}, h("strong", {}, "By environment: "), environments) : null,
  );
}
