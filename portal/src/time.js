// Firestore hands back Timestamps; lzsync also stores a few ISO strings (as_of, period_start).

/** A Date from a Firestore Timestamp, Date, ISO string or epoch milliseconds; null if none. */
export function toDate(value) {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  if (typeof value.toDate === "function") return value.toDate();
  if (typeof value === "string" || typeof value === "number") {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  return null;
}

/** "2026-11-01 14:03:07 UTC": one zone for everyone reading the same status. */
export function formatTime(value) {
  const date = toDate(value);
  if (!date) return "never";
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** A short age: "42 s", "5 min", "3 h 10 min", "2 d 4 h". */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) {
    const minutes = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${minutes ? ` ${minutes} min` : ""}`;
  }
  const hours = Math.floor((s % 86400) / 3600);
  return `${Math.floor(s / 86400)} d${hours ? ` ${hours} h` : ""}`;
}

/** Seconds from ``value`` to ``nowMs``; null when there is no time. */
export function ageSeconds(value, nowMs) {
  const date = toDate(value);
  return date ? (nowMs - date.getTime()) / 1000 : null;
}
