// The card colour rule, without a browser: `node --test portal/test/` (tests/unit runs it).
import assert from "node:assert/strict";
import { test } from "node:test";
import { freshness } from "../src/freshness.js";
import { formatDuration } from "../src/time.js";

const NOW = Date.parse("2026-11-01T12:00:00Z");
const ago = (seconds) => new Date(NOW - seconds * 1000);
const HOUR = 3600;

test("a layer within its interval is ok, past it amber, past six hours red", () => {
  const status = (age) => ({ state: "ok", last_success: ago(age), expected_interval_seconds: 300 });
  assert.equal(freshness("assets", status(60), NOW), "ok");
  assert.equal(freshness("assets", status(301), NOW), "amber");
  assert.equal(freshness("assets", status(7 * HOUR), NOW), "red");
});

test("a layer marked stale or failing is red however recent its success", () => {
  for (const state of ["stale", "failing"]) {
    assert.equal(freshness("git", { state, last_success: ago(1) }, NOW), "red");
  }
});

test("a degraded layer or one that never succeeded is at least amber", () => {
  assert.equal(freshness("git", { state: "degraded", last_success: ago(1) }, NOW), "amber");
  assert.equal(freshness("git", { state: "ok" }, NOW), "amber");
});

test("a daily layer turns red past its own threshold (26 h), not at six hours", () => {
  const status = (age) => ({ last_success: ago(age), expected_interval_seconds: 24 * HOUR });
  assert.equal(freshness("history", status(7 * HOUR), NOW), "ok");
  assert.equal(freshness("history", status(25 * HOUR), NOW), "amber");
  assert.equal(freshness("history", status(49 * HOUR), NOW), "red");
});

test("the server's stale mark and its threshold win over the page's defaults", () => {
  const fresh = { state: "ok", last_success: ago(60), expected_interval_seconds: 300 };
  assert.equal(freshness("assets", { ...fresh, stale: true }, NOW), "red");
  const custom = { ...fresh, last_success: ago(2 * HOUR), freshness: { stale_after_seconds: HOUR } };
  assert.equal(freshness("assets", custom, NOW), "red");
  assert.equal(freshness("git", { state: "ok", last_success: ago(6 * HOUR) }, NOW), "ok");
});

test("events age by the newest applied event, a ping-only webhook by its last ping", () => {
  assert.equal(freshness("events", { last_event_time: ago(7 * HOUR) }, NOW), "red");
  assert.equal(freshness("webhook", { last_ping: ago(60) }, NOW), "ok");
});

test("no status document is 'none', and a Firestore Timestamp is read like a Date", () => {
  assert.equal(freshness("webhook", undefined, NOW), "none");
  const timestamp = { toDate: () => ago(10) };
  assert.equal(freshness("webhook", { last_success: timestamp }, NOW), "ok");
});

test("ages read short", () => {
  assert.deepEqual(
    [42, 300, 3 * HOUR + 600, 2 * 86400 + 4 * HOUR].map(formatDuration),
    ["42 s", "5 min", "3 h 10 min", "2 d 4 h"],
  );
});

test("violated constraints rank first, most violations then severity", async () => {
  const { rankConstraints } = await import("../src/compliance.js");
  const ranked = rankConstraints({
    "a-low": { kind: "K", severity: "low", violations: 3, evaluated: true },
    "b-high": { kind: "K", severity: "high", violations: 3, evaluated: true },
    "c-clean": { kind: "K", severity: "high", violations: 0, evaluated: true },
    "d-unknown": { kind: "X", severity: "medium", violations: 0, evaluated: false },
  }).map(([name]) => name);
  assert.deepEqual(ranked, ["b-high", "a-low", "d-unknown"]);
});
