// The dashboard, from /api/stats: traces and errors over time and trace latency p50/p95
// (level=trace: one per trace, by trace start), the spans in the range, tokens and cost by model
// and the slowest span names (span level). /dashboard?range=1h|24h|7d
import { h, notice, setTitle } from "../dom.js";
import { getJSON } from "../api.js";
import * as fmt from "../format.js";
import { columnChart, lineChart, barList } from "../charts.js";
import { unavailable } from "../unavailable.js";

const MIN = 60e9;
// range -> [length, bucket] in nanoseconds
const RANGES = { "1h": [60 * MIN, MIN, "1 min"], "24h": [1440 * MIN, 30 * MIN, "30 min"], "7d": [10080 * MIN, 360 * MIN, "6 h"] };
const SLOWEST = 12;

export async function render(root) {
  setTitle("Dashboard");
  const asked = new URLSearchParams(location.search).get("range");
  const chosen = Object.hasOwn(RANGES, asked || "") ? asked : null;
  const summary = h("div", { class: "summary" });
  const page = h("div", { class: "page dashboard-page" });
  root.append(page);
  // Without a range in the URL: the shortest one holding traces, so fresh data fills the chart
  // rather than one column at its right edge (the last hour, by minute, when there is none).
  let picked;
  try {
    picked = chosen ? await overTimeOf(chosen) : await firstWithTraces();
  } catch (error) {
    page.append(error.missingEndpoint ? unavailable("The dashboard is", "GET /api/stats") : notice("error", "Cannot load statistics", error.message));
    return;
  }
  const { range, since, until, bucket, overTime } = picked;
  const [length, , bucketLabel] = RANGES[range];
  const base = { since: String(since), until: String(until) };
  Object.assign(page.dataset, { since, until, bucket, range, rangePicked: chosen ? "url" : "data" });
  page.append(
    h("div", { class: "dash-head" }, h("h1", { text: "Dashboard" }),
      h("nav", { class: "ranges", "aria-label": "Time range" }, Object.keys(RANGES).map((r) =>
        h("a", { href: `/dashboard?range=${r}`, class: r === range ? "active" : null, text: `Last ${r}`,
          "aria-current": r === range ? "page" : null }))),
      chosen ? null : h("span", { class: "muted range-note", text: `the shortest range with traces, per ${bucketLabel}` })),
    summary);
  const soft = (promise) => promise.catch(() => null);
  const requests = [
    soft(getJSON("/api/stats", base)),
    soft(getJSON("/api/stats", { ...base, group_by: "model" })),
    soft(getJSON("/api/stats", { ...base, group_by: "name" })),
  ];
  const [spanTotals, byModel, byName] = await Promise.all(requests);

  const buckets = fillBuckets(overTime.rows, since, until, bucket);
  const sum = (rows, key) => rows.reduce((t, r) => t + (r[key] || 0), 0);
  const traces = sum(overTime.rows, "count");
  const errorTraces = sum(overTime.rows, "error_count");
  const spanRows = spanTotals ? spanTotals.rows : null;
  const spans = spanRows ? sum(spanRows, "count") : null;
  const spanErrors = spanRows ? sum(spanRows, "error_count") : null;
  // Trace totals count each model call once (a framework span over a provider span is one call).
  const tokens = sum(overTime.rows, "input_tokens") + sum(overTime.rows, "output_tokens");
  const costs = overTime.rows.map((r) => r.cost).filter((c) => typeof c === "number");
  const models = (byModel ? byModel.rows : []).filter((g) => g.group !== null && g.group !== "");
  const count = (n) => (n === null ? fmt.NONE : fmt.count(n));
  summary.replaceChildren(
    stat("Traces", count(traces), "traces started in the range", "traces"),
    stat("Traces with errors", count(errorTraces), "traces with at least one error span", "error-traces",
      traces ? fmt.percent(errorTraces / traces) : null),
    stat("Spans", count(spans), "spans started in the range", "spans"),
    stat("Error spans", count(spanErrors), "", "error-spans", spans ? fmt.percent(spanErrors / spans) : null),
    stat("Model tokens", fmt.count(tokens), "input + output of the traces, each model call once", "tokens"),
    stat("Model cost", fmt.cost(costs.length ? costs.reduce((a, b) => a + b, 0) : null), "", "cost"));

  const at = (ns) => tick(ns, length);
  page.append(h("div", { class: "cards" },
    card("Traces and errors over time", `by trace start, per ${bucketLabel}`, "over-time",
      columnChart(buckets, [
        { key: "count", label: "traces", cls: "s-count" },
        { key: "error_count", label: "with errors", cls: "s-error" },
      ], { formatY: fmt.count, formatX: at })),
    card("Latency", "p50 and p95 of trace durations", "latency",
      lineChart(buckets, [
        { key: "p50_ns", label: "p50", cls: "s-p50" },
        { key: "p95_ns", label: "p95", cls: "s-p95" },
      ], { formatY: fmt.duration, formatX: at })),
    card("Tokens by model", "input + output", "tokens-by-model", byModel
      ? barList(models.map((g) => ({ label: g.group, value: g.input_tokens + g.output_tokens,
        note: `${fmt.count(g.input_tokens)} in · ${fmt.count(g.output_tokens)} out · ${fmt.count(g.count)} calls` }))
        .sort((a, b) => b.value - a.value), { format: fmt.count, none: "No model calls in this range." })
      : notAvailable()),
    card("Cost by model", "USD", "cost-by-model", byModel
      ? barList(models.filter((g) => typeof g.cost === "number").map((g) => ({ label: g.group, value: g.cost,
        note: g.count ? `${fmt.cost(g.cost / g.count)} per call` : "" }))
        .sort((a, b) => b.value - a.value), { format: fmt.cost, cls: "s-cost", none: "No model call reported a cost in this range." })
      : notAvailable()),
    card("Slowest span names", `p95 duration, top ${SLOWEST}`, "slowest-spans", byName
      ? barList(byName.rows.filter((g) => g.group !== null).map((g) => ({ label: g.group, value: g.p95_ns,
        note: `p50 ${fmt.duration(Math.round(g.p50_ns))} · ${fmt.count(g.count)} spans${g.error_count ? ` · ${fmt.count(g.error_count)} errors` : ""}` }))
        .sort((a, b) => b.value - a.value).slice(0, SLOWEST), { format: (v) => fmt.duration(Math.round(v)), cls: "s-slow" })
      : notAvailable())));
}

// The range's window: buckets aligned to the bucket size, the last one holding now.
function windowOf(range) {
  const [length, bucket] = RANGES[range];
  const until = (Math.floor(Date.now() * 1e6 / bucket) + 1) * bucket;
  return { range, since: until - length, until, bucket };
}

async function overTimeOf(range) {
  const w = windowOf(range);
  const overTime = await getJSON("/api/stats", { since: String(w.since), until: String(w.until), level: "trace", bucket: String(w.bucket) });
  return { ...w, overTime };
}

async function firstWithTraces() {
  let last = null;
  for (const range of Object.keys(RANGES)) {
    last = await overTimeOf(range);
    if (last.overTime.rows.some((r) => r.count > 0)) return last;
  }
  return overTimeOf(Object.keys(RANGES)[0]);
}

// Every bucket of the range, empty ones as zeros (the API lists only buckets with traces).
function fillBuckets(rows, since, until, bucket) {
  const byStart = new Map(rows.map((r) => [r.bucket_start_ns, r]));
  const out = [];
  for (let x = since; x < until; x += bucket) {
    const r = byStart.get(x);
    out.push({ x, values: {
      count: r ? r.count : 0,
      error_count: r ? r.error_count : 0,
      p50_ns: r ? r.p50_ns : null,
      p95_ns: r ? r.p95_ns : null,
    } });
  }
  return out;
}

function tick(ns, length) {
  const d = new Date(ns / 1e6);
  const pad = (n) => String(n).padStart(2, "0");
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return length > 1440 * MIN ? `${d.getMonth() + 1}/${d.getDate()} ${clock}` : clock;
}

function stat(label, value, title, key, note = null) {
  return h("div", { class: "stat", "data-stat": key, title: title || null },
    h("span", { class: "muted", text: label }), h("b", { text: value }), note ? h("span", { class: "muted", text: note }) : null);
}

function card(title, subtitle, id, body) {
  return h("section", { class: "card", "data-chart": id },
    h("h2", {}, title, subtitle ? h("span", { class: "muted", text: ` · ${subtitle}` }) : null), body);
}

function notAvailable() {
  return h("p", { class: "muted", text: "Not available." });
}
