// Numbers and times for display. Absent values show as an en dash, never as 0.

export const NONE = "–";
const absent = (v) => v === null || v === undefined || Number.isNaN(v);

export function duration(ns) {
  if (absent(ns)) return NONE;
  const abs = Math.abs(ns);
  if (abs < 1e3) return `${ns}ns`;
  if (abs < 1e6) return `${trim(ns / 1e3)}µs`;
  if (abs < 1e9) return `${trim(ns / 1e6)}ms`;
  if (abs < 60e9) return `${trim(ns / 1e9)}s`;
  const s = Math.round(ns / 1e9);
  return s < 3600 ? `${Math.floor(s / 60)}m${pad(s % 60)}s` : `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
}

function trim(value) {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}
const pad = (n) => String(n).padStart(2, "0");

export function time(ns, { date = "auto" } = {}) {
  if (absent(ns)) return NONE;
  const d = new Date(ns / 1e6);
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, "0")}`;
  const today = new Date().toDateString() === d.toDateString();
  if (date === "never" || (date === "auto" && today)) return clock;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}`;
}

export function isoTime(ns) {
  return absent(ns) ? "" : new Date(ns / 1e6).toISOString();
}

export function count(n) {
  if (absent(n)) return NONE;
  if (Math.abs(n) < 10000) return n.toLocaleString("en-US");
  if (Math.abs(n) < 1e6) return `${trim(n / 1e3)}k`;
  return `${trim(n / 1e6)}M`;
}

export function cost(usd) {
  if (absent(usd)) return NONE;
  if (usd === 0) return "$0";
  // Dollars as a person reads them ($0.000074, not $7.4e-5): two significant digits.
  if (usd < 0.00000001) return "<$0.00000001";
  if (usd < 1) {
    const decimals = Math.min(8, 1 - Math.floor(Math.log10(usd)));
    return `$${usd.toFixed(decimals).replace(/(\.\d*?[1-9])0+$/, "$1").replace(/\.0+$/, "")}`;
  }
  return `$${usd.toFixed(2)}`;
}

export function percent(ratio) {
  return absent(ratio) ? NONE : `${(ratio * 100).toFixed(ratio < 0.1 ? 1 : 0)}%`;
}
