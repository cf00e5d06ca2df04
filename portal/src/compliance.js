// compliance/summary: how the estate fares against the landing zone's own constraints, one
// small document written by the asset snapshot when it changes.
import { h } from "./dom.js";
import { formatTime } from "./time.js";

const TOP = 10;
const SEVERITY_ORDER = { high: 0, medium: 1, low: 2 };

/** Constraints with violations first (most first, then by severity), for the table. */
export function rankConstraints(byConstraint) {
  return Object.entries(byConstraint ?? {})
    .filter(([, item]) => item.violations > 0 || item.evaluated === false)
    .sort(
      ([nameA, a], [nameB, b]) =>
        b.violations - a.violations ||
        (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3) ||
        nameA.localeCompare(nameB),
    );
}

export function renderCompliance(root, snapshot) {
  if (!snapshot.exists()) {
    root.replaceChildren(
      h("p", { class: "empty" }, "No compliance yet (needs constraints in the repository)."),
    );
    return;
  }
  const summary = snapshot.data();
  const share =
    summary.compliant_share === null || summary.compliant_share === undefined
      ? "–"
      : `${(100 * summary.compliant_share).toFixed(1)} %`;
  const ranked = rankConstraints(summary.by_constraint);
  const rows = ranked.slice(0, TOP).map(([name, item]) =>
    h(
      "tr",
      { dataset: { constraint: name, severity: item.severity } },
      h("td", { title: item.kind }, name),
      h("td", { class: `severity ${item.severity}` }, item.severity),
      h("td", { class: "num" }, item.evaluated === false ? "not evaluated" : String(item.violations)),
    ),
  );
  root.replaceChildren(
    h(
      "p",
      { class: "total" },
      h("strong", { dataset: { field: "compliant-share" } }, share),
      " of ",
      (summary.assets_judged ?? 0).toLocaleString("en"),
      " assets compliant",
      h("span", { class: "muted" }, ` · ${summary.violations ?? 0} violations · ${formatTime(summary.read_time)}`),
    ),
    rows.length
      ? h("table", { class: "tally" }, h("tbody", {}, rows))
      : h("p", { class: "empty" }, "No constraint is violated."),
  );
}
