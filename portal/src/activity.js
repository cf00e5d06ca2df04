// The activity feed: infrastructure changes (asset events and snapshot deletions) and
// documentation syncs in one list, newest first. Paging is a growing limit on one live query:
// "More" asks for the next page and the listener keeps every loaded entry live.
import { collection, limit, orderBy, query } from "firebase/firestore";
import { h } from "./dom.js";
import { watch } from "./live.js";
import { formatTime } from "./time.js";

const shortName = (name) => String(name ?? "").split("/").pop();

function describe(entry) {
  if (entry.layer === "git") {
    const counts = entry.counts ?? {};
    const changed = ["added", "modified", "removed", "renamed"]
      .filter((key) => counts[key])
      .map((key) => `${counts[key]} ${key}`)
      .join(", ");
    return [
      h("span", { class: "what" }, `${entry.repo} @ ${String(entry.commit ?? "").slice(0, 7)}`),
      ` ${entry.summary ?? ""}`,
      changed ? h("span", { class: "muted" }, ` (${changed})`) : null,
    ];
  }
  return [
    h("span", { class: "what" }, `${shortName(entry.asset_type)} ${shortName(entry.asset)}`),
    ` ${entry.summary ?? ""}`,
    entry.project ? h("span", { class: "muted" }, ` (${entry.project})`) : null,
  ];
}

export function createActivity(list, moreButton, { db, name, pageSize, connection }) {
  let size = pageSize;
  let stop = null;
  const firstShown = new Map(); // entry id -> when this page first showed it (epoch ms)

  const render = (snapshot) => {
    const now = Date.now();
    list.replaceChildren(
      ...snapshot.docs.map((doc) => {
        const entry = doc.data();
        if (!firstShown.has(doc.id)) firstShown.set(doc.id, now);
        const area = entry.layer === "git" ? "docs" : "infra";
        return h(
          "li",
          {
            dataset: {
              id: doc.id,
              layer: entry.layer ?? "",
              kind: entry.kind ?? "",
              shownAt: String(firstShown.get(doc.id)),
            },
          },
          h("time", {}, formatTime(entry.time)),
          h("span", { class: `area area-${area}` }, area),
          h("span", { class: "kind" }, entry.kind ?? ""),
          ...describe(entry),
        );
      }),
    );
    if (snapshot.empty) list.append(h("li", { class: "empty" }, "No activity yet."));
    moreButton.hidden = snapshot.size < size;
  };

  const subscribe = () => {
    stop?.();
    const feed = query(collection(db, name), orderBy("time", "desc"), limit(size));
    stop = watch("activity", feed, render, connection);
  };
  moreButton.addEventListener("click", () => {
    size += pageSize;
    subscribe();
  });
  subscribe();
}
