// Small helpers: Beijing time, ids, hashing, HTML escaping.
const BEIJING = "Asia/Shanghai";
const DAY_MS = 86400000;
const EIGHT_HOURS = 8 * 3600000;

const pad = (n) => String(n).padStart(2, "0");

/** ISO 8601 in Beijing time with its offset: 2025-05-12T09:30:00+08:00. */
export function beijingIso(date = new Date()) {
  const d = new Date(date.getTime() + EIGHT_HOURS);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+08:00`
  );
}

/** The Beijing calendar day ``days`` from now, as YYYY-MM-DD. */
export function beijingDay(days = 0) {
  return beijingIso(new Date(Date.now() + days * DAY_MS)).slice(0, 10);
}

const TIME = new Intl.DateTimeFormat("zh-CN", {
  timeZone: BEIJING,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hour12: false,
});

export const showTime = (iso) => (iso ? TIME.format(new Date(iso)) : "");

export const uuid = () => crypto.randomUUID();

export async function sha256(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** Great-circle distance in kilometres. */
export function distanceKm(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 12742 * Math.asin(Math.sqrt(h));
}
