// How fresh a layer's last success is, as the colour of its card. Pure, so the rule is in one
// place and can be read (and tested) without a browser.
import { ageSeconds } from "./time.js";

export const RED_AFTER_SECONDS = 6 * 3600;

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
 * red: older than 6 hours, or the server-side freshness check marked it stale, or its circuit
 * is open (failing). A layer whose interval is itself 3 h or more (git: 6 h, history: daily)
 * turns red only after two intervals, or a healthy daily export would be red most of the day.
 */
export function freshness(layer, status, nowMs, redAfterSeconds = RED_AFTER_SECONDS) {
  if (!status) return "none";
  if (status.state === "stale" || status.state === "failing") return "red";
  const age = ageSeconds(successTime(layer, status), nowMs);
  const expected = Number(status.expected_interval_seconds) || null;
  const redAfter = Math.max(redAfterSeconds, expected ? 2 * expected : 0);
  if (age === null) return "amber"; // a status but never a success: not broken yet, not fine
  if (age > redAfter) return "red";
  if ((expected && age > expected) || status.state === "degraded") return "amber";
  return "ok";
}
