// Values from spans shown as text: pretty JSON, plain text, key/value tables.
import { h, copyButton } from "./dom.js";

const MAX_CHARS = 200_000;

// JSON text is decoded and pretty-printed; other strings stay text.
export function parseMaybeJson(value) {
  if (typeof value !== "string") return value;
  const t = value.trim();
  if (!/^[[{"]/.test(t)) return value;
  try {
    return JSON.parse(t);
  } catch {
    return value;
  }
}

export function asText(value) {
  const v = parseMaybeJson(value);
  if (typeof v === "string") return v;
  try {
    return JSON.stringify(v, null, 2) ?? String(v);
  } catch {
    return String(v);
  }
}

export function pretty(value, { className = "" } = {}) {
  const v = parseMaybeJson(value);
  let text = asText(v);
  const cut = text.length > MAX_CHARS;
  if (cut) text = `${text.slice(0, MAX_CHARS)}\n… (${(text.length - MAX_CHARS).toLocaleString()} more characters)`;
  const isJson = typeof v !== "string";
  return h("div", { class: "value" },
    h("pre", { class: `${isJson ? "json" : "text"} ${className}`.trim(), text }),
    copyButton(() => asText(v)));
}

export function scalarText(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

// Objects and arrays (or JSON text of one) too long for a line, as indented JSON; long ones
// collapsed to a one-line summary that opens. null for anything else.
const INLINE_CHARS = 60;
const OPEN_LINES = 16;

function structured(value) {
  const v = parseMaybeJson(value);
  if (v === null || typeof v !== "object") return null;
  const compact = scalarText(v);
  if (compact.length <= INLINE_CHARS) return null;
  const text = asText(v);
  const lines = text.split("\n").length;
  const size = Array.isArray(v) ? `[…] ${v.length} item${v.length === 1 ? "" : "s"}`
    : `{…} ${Object.keys(v).length} key${Object.keys(v).length === 1 ? "" : "s"}`;
  return h("details", { class: "kv-json", open: lines <= OPEN_LINES },
    h("summary", { class: "muted", text: `${size}, ${lines} lines` }),
    h("pre", { class: "json", text }));
}

// A table of key/value pairs; `filterable` adds a search box over keys and values.
export function kvTable(map, { filterable = false, truncated = [], copyAll = false, empty = "none" } = {}) {
  const entries = Object.entries(map || {}).sort(([a], [b]) => a.localeCompare(b));
  if (!entries.length) return h("p", { class: "muted", text: empty });
  const cut = new Set(truncated);
  const rows = entries.map(([key, value]) => {
    const text = value === null ? "null" : scalarText(value);
    return h("tr", { "data-key": key },
      h("th", { text: key, title: key }),
      h("td", {}, structured(value) || h("span", { class: value === null ? "kv-value muted" : "kv-value", text }),
        cut.has(key) ? h("span", { class: "chip warn", text: "truncated", title: "Cut at the attribute size limit" }) : null,
        copyButton(text)));
  });
  const table = h("table", { class: "kv" }, h("tbody", {}, rows));
  if (!filterable && !copyAll) return table;
  const tools = h("div", { class: "kv-tools" });
  if (filterable) {
    const input = h("input", { type: "search", class: "kv-filter", placeholder: `Filter ${entries.length} attributes`,
      "aria-label": "Filter attributes" });
    input.addEventListener("input", () => {
      const needle = input.value.toLowerCase();
      for (const [i, [key, value]] of entries.entries()) {
        rows[i].hidden = Boolean(needle) && !`${key}\n${scalarText(value)}`.toLowerCase().includes(needle);
      }
    });
    tools.append(input);
  }
  if (copyAll) tools.append(copyButton(() => JSON.stringify(Object.fromEntries(entries), null, 2), "Copy all as JSON"));
  return h("div", {}, tools, table);
}
