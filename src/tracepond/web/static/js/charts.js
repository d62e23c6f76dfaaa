// Small SVG/HTML charts; labels are text nodes, sizes set through the CSSOM (CSP-safe).
import { h, svg } from "./dom.js";

const W = 600;
const H = 160;

// series: [{label, cls, points: [[x, y], ...]}]; x and y numbers.
export function lineChart(series, { formatY = String, formatX = String } = {}) {
  const points = series.flatMap((s) => s.points);
  if (!points.length) return h("p", { class: "muted", text: "No data in this range." });
  const [x0, x1] = extent(points.map((p) => p[0]));
  const y1 = Math.max(...points.map((p) => p[1]), 0) || 1;
  const sx = (x) => (x1 === x0 ? W / 2 : ((x - x0) / (x1 - x0)) * W);
  const sy = (y) => H - (y / y1) * H;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", preserveAspectRatio: "none", role: "img" },
    [0.5, 1].map((f) => svg("line", { x1: 0, x2: W, y1: sy(y1 * f), y2: sy(y1 * f), class: "gridline" })),
    series.map((s) => svg("polyline", { class: `line ${s.cls || ""}`,
      points: s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ") })));
  return h("div", { class: "chart-box" },
    h("div", { class: "chart-y" }, h("span", { text: formatY(y1) }), h("span", { text: formatY(0) })),
    chart,
    h("div", { class: "chart-x" }, h("span", { text: formatX(x0) }), h("span", { text: formatX(x1) })),
    h("div", { class: "chart-legend" }, series.map((s) => h("span", { class: `legend-item ${s.cls || ""}` }, h("i", { class: "swatch" }), s.label))));
}

// rows: [{label, value, note}] as horizontal bars, largest first.
export function barList(rows, { format = String } = {}) {
  if (!rows.length) return h("p", { class: "muted", text: "No data in this range." });
  const max = Math.max(...rows.map((r) => r.value), 0) || 1;
  return h("table", { class: "bars" }, h("tbody", {}, rows.map((r) => {
    const bar = h("div", { class: "hbar" });
    bar.style.width = `${(r.value / max) * 100}%`;
    return h("tr", {}, h("th", { text: r.label, title: r.label }), h("td", { class: "hbar-cell" }, bar),
      h("td", { class: "num", text: format(r.value) }), h("td", { class: "muted", text: r.note || "" }));
  })));
}

function extent(values) {
  return [Math.min(...values), Math.max(...values)];
}
