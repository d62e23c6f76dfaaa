// Small SVG/HTML charts, no library: labels are text nodes (and SVG <title> text for hover),
// sizes set through attributes or the CSSOM (CSP-safe).
import { h, svg } from "./dom.js";

const W = 600;
const H = 160;
const X_TICKS = 5;

// Columns per time bucket. buckets: [{x, values: {series: number}}]; series: [{key, label, cls}],
// drawn over each other in order (e.g. all spans, then the errors among them).
export function columnChart(buckets, series, { formatY = String, formatX = String } = {}) {
  if (!buckets.some((b) => series.some((s) => b.values[s.key] > 0))) return empty();
  const y1 = niceMax(Math.max(...buckets.flatMap((b) => series.map((s) => b.values[s.key] || 0))));
  const step = W / buckets.length;
  const gap = step > 6 ? 1 : 0;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", preserveAspectRatio: "none", role: "img" },
    gridlines(y1),
    buckets.map((b, i) => svg("g", { class: "column", "data-x": b.x, ...dataValues(series, b) },
      svg("title", { text: `${formatX(b.x)}\n${series.map((s) => `${s.label}: ${formatY(b.values[s.key] || 0)}`).join("\n")}` }),
      series.map((s) => {
        const v = b.values[s.key] || 0;
        return v > 0 ? svg("rect", { class: `bar-rect ${s.cls}`, x: (i * step + gap / 2).toFixed(2), width: Math.max(step - gap, 0.5).toFixed(2),
          y: (H - (v / y1) * H).toFixed(2), height: ((v / y1) * H).toFixed(2) }) : null;
      }))));
  return frame(chart, y1, buckets.map((b) => b.x), series, { formatY, formatX });
}

// Lines over time. points: [{x, values: {series: number|null}}]; null leaves a gap.
export function lineChart(points, series, { formatY = String, formatX = String } = {}) {
  const all = points.flatMap((p) => series.map((s) => p.values[s.key])).filter((v) => typeof v === "number");
  if (!all.length) return empty();
  const y1 = niceMax(Math.max(...all));
  const step = W / points.length;
  const sx = (i) => i * step + step / 2;
  const sy = (v) => H - (v / y1) * H;
  const paths = series.map((s) => {
    const segments = [];
    let current = [];
    points.forEach((p, i) => {
      const v = p.values[s.key];
      if (typeof v === "number") current.push(`${sx(i).toFixed(1)},${sy(v).toFixed(1)}`);
      else if (current.length) segments.push(current), (current = []);
    });
    if (current.length) segments.push(current);
    // Points as zero-length round-capped lines: dots that stay round when the chart stretches.
    const dots = points.length <= 72 || segments.some((seg) => seg.length === 1)
      ? segments.flat().map((xy) => {
        const [x, y] = xy.split(",");
        return svg("line", { class: `dot ${s.cls}`, x1: x, y1: y, x2: x, y2: y });
      })
      : [];
    return [segments.map((seg) => svg("polyline", { class: `line ${s.cls}`, points: seg.join(" ") })), dots];
  });
  const hovers = points.map((p, i) => series.some((s) => typeof p.values[s.key] === "number")
    ? svg("rect", { class: "hover-col", x: (i * step).toFixed(2), y: 0, width: step.toFixed(2), height: H, "data-x": p.x, ...dataValues(series, p) },
      svg("title", { text: `${formatX(p.x)}\n${series.map((s) => `${s.label}: ${typeof p.values[s.key] === "number" ? formatY(p.values[s.key]) : "–"}`).join("\n")}` }))
    : null);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", preserveAspectRatio: "none", role: "img" },
    gridlines(y1), paths, hovers);
  return frame(chart, y1, points.map((p) => p.x), series, { formatY, formatX });
}

// rows: [{label, value, note}] as horizontal bars in the given order.
export function barList(rows, { format = String, cls = "", none = "" } = {}) {
  if (!rows.length) return empty(none);
  const max = Math.max(...rows.map((r) => r.value), 0) || 1;
  return h("table", { class: "bars" }, h("tbody", {}, rows.map((r) => {
    const bar = h("div", { class: `hbar ${cls}` });
    bar.style.width = `${(r.value / max) * 100}%`;
    return h("tr", { "data-label": r.label, "data-value": r.value },
      h("th", { text: r.label, title: r.label }), h("td", { class: "hbar-cell" }, bar),
      h("td", { class: "num", text: format(r.value) }), h("td", { class: "muted note", text: r.note || "" }));
  })));
}

function empty(text = "") {
  return h("p", { class: "muted empty-chart", text: text || "No data in this range." });
}

function dataValues(series, point) {
  return Object.fromEntries(series.map((s) => [`data-${s.key}`, point.values[s.key] ?? ""]));
}

function gridlines(y1) {
  return [0.25, 0.5, 0.75, 1].map((f) => svg("line", { x1: 0, x2: W, y1: H - f * H, y2: H - f * H, class: "gridline" }));
}

function frame(chart, y1, xs, series, { formatY, formatX }) {
  const ticks = h("div", { class: "chart-x" });
  const n = Math.min(X_TICKS, xs.length);
  for (let t = 0; t < n; t++) {
    const i = n === 1 ? 0 : Math.round((t * (xs.length - 1)) / (n - 1));
    const tick = h("span", { text: formatX(xs[i]) });
    tick.style.left = `${((i + 0.5) / xs.length) * 100}%`;
    ticks.append(tick);
  }
  return h("div", { class: "chart-box" },
    h("div", { class: "chart-y" }, h("span", { text: formatY(y1) }), h("span", { text: formatY(y1 / 2) }), h("span", { text: formatY(0) })),
    chart,
    ticks,
    h("div", { class: "chart-legend" }, series.map((s) => h("span", { class: `legend-item ${s.cls}` }, h("i", { class: "swatch" }), s.label))));
}

// A round axis maximum at or above v: 1, 2, 2.5 or 5 times a power of ten.
export function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}
