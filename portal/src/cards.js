// One card per layer from the sync_status collection, coloured by freshness. The clock re-renders
// them every second: a card must turn amber or red as time passes, with no new data at all.
import { h } from "./dom.js";
import { freshness, successTime } from "./freshness.js";
import { ageSeconds, formatDuration, formatTime } from "./time.js";

export const LAYERS = ["webhook", "git", "assets", "events", "history"];

const TITLES = {
  webhook: "Webhook",
  git: "Git sync",
  assets: "Asset snapshot",
  events: "Asset events",
  history: "History export",
};

const FRESHNESS_TEXT = { ok: "fresh", amber: "late", red: "stale", none: "no status yet" };

/** "written 3 · deleted 1" from a map of numbers (nested maps one level down are skipped). */
function numbers(map) {
  if (!map || typeof map !== "object") return null;
  const parts = Object.entries(map)
    .filter(([, value]) => typeof value === "number")
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key.replaceAll("_", " ")} ${value}`);
  return parts.length ? parts.join(" · ") : null;
}

function lastError(error) {
  if (!error) return null;
  if (typeof error === "string") return error;
  const text = [error.type, error.message].filter(Boolean).join(": ");
  return error.at ? `${text} (${formatTime(error.at)})` : text;
}

// What each layer last did, in one line.
const DETAILS = {
  webhook: (s) => s.last_repo && `last push ${s.last_repo} → ${String(s.last_after ?? "").slice(0, 7)}`,
  git: (s) => s.last_commit && `commit ${String(s.last_commit).slice(0, 7)} (${s.last_outcome ?? "synced"})`,
  assets: (s) => s.last_outcome && `${s.last_outcome}${s.scope ? ` · ${s.scope}` : ""}`,
  events: (s) =>
    s.lag_seconds &&
    `lag p50 ${formatDuration(s.lag_seconds.p50)} · p99 ${formatDuration(s.lag_seconds.p99)}`,
  history: (s) => s.last_partition && `last partition ${s.last_partition}`,
};

function row(label, value, key) {
  if (value === null || value === undefined || value === "") return null;
  return [h("dt", {}, label), h("dd", { dataset: { field: key } }, value)];
}

function card(layer, status, nowMs, redAfterSeconds) {
  const fresh = freshness(layer, status, nowMs, redAfterSeconds);
  const body = status
    ? h(
        "dl",
        {},
        row(
          layer === "events" ? "last event" : "last success",
          `${formatTime(successTime(layer, status))} (${formatDuration(
            ageSeconds(successTime(layer, status), nowMs),
          )} ago)`,
          "last-success",
        ),
        row(
          "expected every",
          status.expected_interval_seconds && formatDuration(status.expected_interval_seconds),
          "interval",
        ),
        row("stale since", status.stale_since && formatTime(status.stale_since), "stale-since"),
        row("last run", DETAILS[layer](status) || null, "detail"),
        row("counts", numbers(status.counts), "counts"),
        row("counters", numbers(status.counters), "counters"),
        row("last error", lastError(status.last_error), "last-error"),
      )
    : h("p", { class: "empty" }, "This layer has not written its status yet.");
  return h(
    "article",
    { class: "card", dataset: { layer, freshness: fresh, state: status?.state ?? "none" } },
    h(
      "header",
      {},
      h("h3", {}, TITLES[layer]),
      h("span", { class: "state" }, status?.state ?? "—"),
      h("span", { class: "badge" }, FRESHNESS_TEXT[fresh]),
    ),
    body,
  );
}

export function createCards(root, { redAfterSeconds }) {
  let statuses = new Map();
  const render = () =>
    root.replaceChildren(
      ...LAYERS.map((layer) => card(layer, statuses.get(layer), Date.now(), redAfterSeconds)),
    );
  render();
  return {
    /** A sync_status query snapshot: document id = layer. */
    update(snapshot) {
      statuses = new Map(snapshot.docs.map((doc) => [doc.id, doc.data()]));
      render();
    },
    tick: render,
  };
}
