// How fresh a layer's last success is, as the colour of its card. Pure, so the rule is in one
// place and can be read (and tested) without a browser.
import { ageSeconds } from "./time.js";

// Red past these ages unless the status says otherwise: the same defaults as the server's
// freshness check (shared/lzsync/logic/freshness.py; tests/unit keeps the two equal). A quiet
// repository sends no webhook for days; git reconciles every 6 h; the history export is daily.
export const STALE_AFTER_SECONDS = {
  webhook: 604800,
  git: 23400,
  assets: 21600,
  events: 21600,
  history: 93600,
};

// The field that says when a layer last did its job. asset_events records no "success", only
// the time of the newest event it applied; a webhook that has only seen pings has last_ping.
const SUCCESS_FIELDS = {
  webhook: ["last_success", "last_ping"],
  events: ["last_event_time"],
};

export function successTime(layer, status) {
  for (const field of SUCCESS_FIELDS[layer] ?? ["last_success"]) {
    if (status?.[field]) return status[field];
  }
  return null;
}

/**
 * "none" (no status document), "ok", "amber" or "red".
 *
 * amber: older than the layer's expected_interval_seconds, or the layer says it is degraded.
 * red: the server-side freshness check marked it stale, or its circuit is open (failing), or
 * it is older than its stale threshold: the one the server wrote into the status
 * (freshness.stale_after_seconds, the deployment's own setting), else the config's
 * redAfterSeconds, else the default for the layer above.
 */
export function freshness(layer, status, nowMs, redAfterSeconds = null) {
  if (!status) return "none";
  if (status.stale === true || status.state === "stale" || status.state === "failing") {
    return "red";
  }
  const age = ageSeconds(successTime(layer, status), nowMs);
  const expected = Number(status.expected_interval_seconds) || null;
  const redAfter =
    Number(status.freshness?.stale_after_seconds) ||
    Number(redAfterSeconds) ||
    STALE_AFTER_SECONDS[layer] ||
    6 * 3600;
  if (age === null) return "amber"; // a status but never a success: not broken yet, not fine
  if (age > redAfter) return "red";
  if ((expected && age > expected) || status.state === "degraded") return "amber";
  return "ok";
}
