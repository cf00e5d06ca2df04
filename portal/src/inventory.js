// inventory/assets: the estate's totals by type and project, one small document.
import { h } from "./dom.js";
import { formatTime } from "./time.js";

const TOP = 12;

function tally(title, counts, label) {
  const rows = Object.entries(counts ?? {}).sort(([, a], [, b]) => b - a);
  const largest = rows.length ? rows[0][1] : 1;
  const shown = rows.slice(0, TOP).map(([key, count]) =>
    h(
      "tr",
      { dataset: { key } },
      h("td", { title: key }, label(key)),
      h("td", { class: "num" }, count.toLocaleString("en")),
      h("td", { class: "bar" }, h("span", { style: `width:${(100 * count) / largest}%` })),
    ),
  );
  const rest = rows.length - TOP;
  return h(
    "table",
    { class: "tally" },
    h("caption", {}, title),
    h("tbody", {}, shown),
    rest > 0 ? h("tfoot", {}, h("tr", {}, h("td", { colspan: 3 }, `and ${rest} more`))) : null,
  );
}

export function renderInventory(root, snapshot) {
  if (!snapshot.exists()) {
    root.replaceChildren(h("p", { class: "empty" }, "No inventory yet (the asset snapshot writes it)."));
    return;
  }
  const inventory = snapshot.data();
  root.replaceChildren(
    h(
      "p",
      { class: "total" },
      h("strong", { dataset: { field: "total" } }, (inventory.total ?? 0).toLocaleString("en")),
      " resources",
      h("span", { class: "muted" }, ` · ${inventory.scope ?? ""} · read ${formatTime(inventory.read_time)}`),
    ),
    h(
      "div",
      { class: "tallies" },
      tally("By type", inventory.by_type, (key) => key.split("/").pop()),
      tally("By project", inventory.by_project, (key) => key),
    ),
  );
}
