// The synced documents, one kind at a time. The query is an equality on `kind` ordered by
// document id (repo:path, encoded), which Firestore serves from its automatic single-field
// index: no composite index to deploy. Pages grow like the activity feed's.
import { collection, limit, query, where } from "firebase/firestore";
import { h } from "./dom.js";
import { watch } from "./live.js";
import { formatTime } from "./time.js";

const MAX_SHOWN_CHARS = 20000;

function detail(doc) {
  const d = doc.data();
  const text = typeof d.content === "string" ? d.content : null;
  return h(
    "article",
    { class: "doc-detail", dataset: { id: doc.id } },
    h("h4", {}, d.title || d.path),
    h(
      "p",
      { class: "muted" },
      `${d.repo}:${d.path} · ${d.kind} · commit `,
      h("code", { title: d.commit_sha ?? "" }, String(d.commit_sha ?? "").slice(0, 12)),
      ` · committed ${formatTime(d.commit_time)} · synced ${formatTime(d.synced_at)}`,
      d.web_url ? [" · ", h("a", { href: d.web_url, target: "_blank", rel: "noopener" }, "source")] : null,
    ),
    d.flag ? h("p", { class: "flag" }, `Not shown as text: ${d.flag}`) : null,
    text !== null
      ? h("pre", {}, text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}\n…` : text)
      : null,
  );
}

export function createDocuments(parts, { db, name, kinds, pageSize, connection }) {
  const { tabs, list, more, pane } = parts;
  let kind = kinds[0];
  let size = pageSize;
  let stop = null;
  let selected = null;
  let docs = [];

  const renderList = () => {
    list.replaceChildren(
      ...docs.map((doc) => {
        const d = doc.data();
        return h(
          "li",
          {
            class: doc.id === selected ? "selected" : null,
            dataset: { id: doc.id, path: d.path, commit: d.commit_sha ?? "" },
            onclick: () => {
              selected = doc.id;
              renderList();
            },
          },
          h("span", { class: "title" }, d.title || d.path),
          h("span", { class: "path" }, d.path),
          h("code", { title: d.commit_sha ?? "" }, String(d.commit_sha ?? "").slice(0, 7)),
        );
      }),
    );
    if (docs.length === 0) list.append(h("li", { class: "empty" }, `No ${kind} documents.`));
    const shown = docs.find((doc) => doc.id === selected);
    pane.replaceChildren(shown ? detail(shown) : h("p", { class: "muted" }, "Pick a document."));
  };

  const subscribe = () => {
    stop?.();
    const page = query(collection(db, name), where("kind", "==", kind), limit(size));
    stop = watch("documents", page, (snapshot) => {
      docs = [...snapshot.docs].sort((a, b) =>
        `${a.get("repo")}:${a.get("path")}`.localeCompare(`${b.get("repo")}:${b.get("path")}`),
      );
      more.hidden = snapshot.size < size;
      renderList();
    }, connection);
  };

  const renderTabs = () =>
    tabs.replaceChildren(
      ...kinds.map((k) =>
        h(
          "button",
          {
            type: "button",
            class: k === kind ? "active" : null,
            dataset: { kind: k },
            onclick: () => {
              kind = k;
              size = pageSize;
              selected = null;
              renderTabs();
              subscribe();
            },
          },
          k,
        ),
      ),
    );

  more.addEventListener("click", () => {
    size += pageSize;
    subscribe();
  });
  renderTabs();
  subscribe();
}
