// The dashboard: traces and errors over time, latency, tokens and cost by model, slowest spans.
import { h, notice, setTitle } from "../dom.js";
import { getJSON } from "../api.js";
import * as fmt from "../format.js";
import { lineChart, barList } from "../charts.js";
import { unavailable } from "../unavailable.js";

const RANGES = { "1h": [3600, 60], "24h": [86400, 3600], "7d": [604800, 21600] };

export async function render(root) {
  setTitle("Dashboard");
  const range = new URLSearchParams(location.search).get("range") || "24h";
  const [seconds, bucket] = RANGES[range] || RANGES["24h"];
  const end = Date.now() * 1e6;
  const start = end - seconds * 1e9;
  const page = h("div", { class: "page dashboard-page" },
    h("div", { class: "dash-head" }, h("h1", { text: "Dashboard" }),
      h("nav", { class: "ranges" }, Object.keys(RANGES).map((r) =>
        h("a", { href: `/dashboard?range=${r}`, class: r === range ? "active" : null, text: `Last ${r}` })))));
  root.append(page);
  const base = { start, end };
  let overTime;
  try {
    overTime = await getJSON("/api/stats", { ...base, bucket: `${bucket}s` });
  } catch (error) {
    page.append(error.missingEndpoint ? unavailable("The dashboard is", "GET /api/stats") : notice("error", "Cannot load statistics", error.message));
    return;
  }
  const [byModel, byName] = await Promise.all([
    getJSON("/api/stats", { ...base, group_by: "model" }).catch(() => null),
    getJSON("/api/stats", { ...base, group_by: "name" }).catch(() => null),
  ]);
  const buckets = rowsOf(overTime);
  const x = (b) => Number(b.start_time_unix_nano ?? b.start ?? b.time ?? b.bucket) / 1e6;
  const at = (ms) => fmt.time(ms * 1e6, { date: seconds > 86400 ? "always" : "auto" }).slice(0, seconds > 86400 ? 16 : 5);
  page.append(h("div", { class: "cards" },
    card("Traces and errors", lineChart([
      { label: "traces", cls: "s-count", points: buckets.map((b) => [x(b), num(b.count)]) },
      { label: "errors", cls: "s-error", points: buckets.map((b) => [x(b), num(b.error_count ?? (b.error_rate ?? 0) * num(b.count))]) },
    ], { formatY: fmt.count, formatX: at })),
    card("Latency", lineChart([
      { label: "p50", cls: "s-p50", points: buckets.map((b) => [x(b), latency(b, "p50")]) },
      { label: "p95", cls: "s-p95", points: buckets.map((b) => [x(b), latency(b, "p95")]) },
    ], { formatY: fmt.duration, formatX: at })),
    card("Tokens by model", byModel ? barList(rowsOf(byModel).map((g) => ({ label: groupName(g),
      value: num(g.input_tokens) + num(g.output_tokens),
      note: `${fmt.count(num(g.input_tokens))} in · ${fmt.count(num(g.output_tokens))} out` })).sort((a, b) => b.value - a.value), { format: fmt.count })
      : h("p", { class: "muted", text: "Not available." })),
    card("Cost by model", byModel ? barList(rowsOf(byModel).map((g) => ({ label: groupName(g), value: num(g.cost) }))
      .sort((a, b) => b.value - a.value), { format: fmt.cost }) : h("p", { class: "muted", text: "Not available." })),
    card("Slowest span names (p95)", byName ? barList(rowsOf(byName).map((g) => ({ label: groupName(g), value: latency(g, "p95"),
      note: `${fmt.count(num(g.count))} spans` })).sort((a, b) => b.value - a.value).slice(0, 12), { format: fmt.duration })
      : h("p", { class: "muted", text: "Not available." }))));
}

function card(title, body) {
  return h("section", { class: "card" }, h("h2", { text: title }), body);
}

const rowsOf = (r) => (r && (r.buckets || r.groups || r.series || r.rows)) || [];
const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const latency = (b, p) => num(b[`${p}_ns`] ?? b[`latency_${p}_ns`] ?? b[p] ?? (b.latency && b.latency[p]));
const groupName = (g) => String(g.group ?? g.key ?? g.model ?? g.name ?? "(none)");
