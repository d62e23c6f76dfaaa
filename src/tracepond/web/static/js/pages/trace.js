// The trace page: summary, tree + waterfall, search within the trace, the detail panel.
// /traces/{trace_id}?span={span_id} opens with that span selected.
import { h, notice, debounce, copyButton, setTitle } from "../dom.js";
import { getJSON, isHexId, sessionHref, traceHref, compactSkeletonPath, SKELETON_PAGE } from "../api.js";
import * as fmt from "../format.js";
import { buildModel, buildSkeletonModel, appendSkeleton, buildCompactModel, appendCompact, search } from "../trace/model.js";
import { Timeline } from "../trace/timeline.js";
import { DetailPanel } from "../trace/detail.js";
import { categoryLabel } from "../trace/words.js";

export async function render(root, { traceId, skeleton: prefetched = null }) {
  setTitle(`Trace ${traceId.slice(0, 8)}`);
  if (!isHexId(traceId, 32)) {
    root.append(notice("error", "Not a trace id", "A trace id is 32 hexadecimal characters."));
    return;
  }
  traceId = traceId.toLowerCase();
  // The compact skeleton (columns, no payloads, subtree totals; asked for by main.js while this
  // module loaded); span payloads are then fetched one at a time by the detail panel. A server
  // without it (the router's own 404) is asked for the skeleton, then for the full tree.
  const wanted = new URLSearchParams(location.search).get("span");
  let source;
  let data;
  let model;
  try {
    for (source of SOURCES) {
      try {
        data = await (source === SOURCES[0] && prefetched ? prefetched : getJSON(source.url(traceId), source.first));
        break;
      } catch (error) {
        if (!error.missingEndpoint || source === SOURCES[SOURCES.length - 1]) throw error;
      }
    }
    performance.mark("tracepond:skeleton-received");
    model = source.build(data);
    performance.mark("tracepond:model-built");
    // A span to select may be past the first page: then the whole list comes first.
    while (wanted && !model.byId.has(wanted.toLowerCase()) && data.next_cursor) {
      data = await getJSON(source.url(traceId), { cursor: data.next_cursor, limit: PAGE });
      source.append(model, data);
    }
  } catch (error) {
    root.append(error.status === 404
      ? notice("info", "Trace not found", `No span of trace ${traceId} has arrived (yet). Spans are shown once their batch is committed.`)
      : notice("error", "Cannot load this trace", error.message));
    return;
  }
  const summary = data.summary || {};
  setTitle(summary.root_name || traceId.slice(0, 8));
  const detail = new DetailPanel(traceId);
  const timeline = new Timeline(model, {
    total: data.total ?? null,
    onSelect: (node) => {
      history.replaceState(null, "", traceHref(traceId, node.id));
      showDetail(node);
    },
  });
  const showDetail = debounce((node) => detail.show(node), 60);

  const pageEl = h("div", { class: "page trace-page", "data-trace-id": traceId, "data-loaded": data.next_cursor ? "partial" : "complete" },
    traceHeader(traceId, summary, model),
    toolbar(model, timeline),
    data.next_cursor ? h("p", { class: "muted loading-rest", role: "status",
      text: `Showing the first ${fmt.count(model.nodes.length)} of ${fmt.count(data.total)} spans; loading the rest…` }) : null,
    h("div", { class: "split" }, timeline.element, detail.element));
  root.append(pageEl);

  const start = (wanted && model.byId.get(wanted.toLowerCase())) || model.roots[0];
  if (wanted && !model.byId.has(wanted.toLowerCase())) {
    detail.element.replaceChildren(notice("warn", "Span not in this trace", `Span ${wanted} was not found; showing the root.`));
  }
  if (start) {
    timeline.select(start.index, { notify: false });
    detail.show(start);
  }
  timeline.body.focus({ preventScroll: true });
  const more = data.next_cursor;
  requestAnimationFrame(() => {
    document.body.dataset.renderedMs = String(Math.round(performance.now()));
    if (!more) document.body.dataset.loadedMs = document.body.dataset.renderedMs;
    performance.mark("tracepond:trace-rendered");
  });
  if (more) await loadRest(source, source.url(traceId), more, model, timeline, pageEl);
}

const PAGE = SKELETON_PAGE; // the API's largest page
const FIRST_PAGE = 500;

// Where a trace's spans come from, best first: url, the first request's parameters, how a
// later page is added, and how the model is built.
const SOURCES = [
  { url: compactSkeletonPath, first: { limit: PAGE }, build: buildCompactModel, append: appendCompact },
  { url: (id) => `/api/traces/${id}/skeleton`, first: { limit: FIRST_PAGE }, build: buildSkeletonModel,
    append: (model, page) => appendSkeleton(model, page.nodes) },
  { url: (id) => `/api/traces/${id}`, first: null, build: buildModel, append: null },
];

// The rest of a skeleton after the first page, appended as it comes.
async function loadRest(source, url, cursor, model, timeline, pageEl) {
  try {
    while (cursor) {
      const next = await getJSON(url, { cursor, limit: PAGE });
      const from = model.nodes.length;
      source.append(model, next);
      timeline.grow(from);
      cursor = next.next_cursor;
    }
    pageEl.dataset.loaded = "complete";
    pageEl.querySelector(".loading-rest")?.remove();
    document.body.dataset.loadedMs = String(Math.round(performance.now()));
  } catch (error) {
    pageEl.dataset.loaded = "failed";
    pageEl.prepend(notice("error", "Only part of this trace could be loaded", error.message));
  }
}

function traceHeader(traceId, s, model) {
  const errors = s.error_count ?? model.nodes.filter((n) => n.error).length;
  const tokens = s.total_tokens ?? model.roots.reduce((t, r) => t + (r.totals.tokens || 0), 0);
  const cost = s.cost ?? model.roots.reduce((c, r) => (r.totals.cost === null ? c : (c ?? 0) + r.totals.cost), null);
  return h("div", { class: "trace-head" },
    h("h1", { text: s.root_name || (model.roots[0] && model.roots[0].name) || "(root not received yet)" }),
    h("div", { class: "facts" },
      fact("Trace", h("span", {}, h("code", { text: traceId }), copyButton(traceId))),
      fact("Start", fmt.time(s.start_time_unix_nano ?? model.start, { date: "always" })),
      fact("Duration", fmt.duration(s.duration_ns ?? model.end - model.start)),
      fact("Spans", fmt.count(s.span_count ?? model.nodes.length)),
      fact("Errors", errors ? h("span", { class: "badge error", text: String(errors) }) : "0"),
      fact("Tokens", fmt.count(tokens || null)),
      fact("Cost", fmt.cost(cost)),
      s.models && s.models.length ? fact("Models", s.models.join(", ")) : null,
      s.service_name ? fact("Service", s.service_name) : null,
      s.session_id ? fact("Session", h("a", { href: sessionHref(s.session_id), text: s.session_id })) : null));
}

function fact(label, value) {
  return h("div", { class: "fact" }, h("span", { class: "muted", text: label }), h("span", { class: "fact-value" }, value));
}

function toolbar(model, timeline) {
  let matches = [];
  let at = -1;
  const counter = h("span", { class: "muted match-count", "aria-live": "polite" });
  const input = h("input", { type: "search", class: "trace-search", placeholder: "Search spans: name, id, attribute…",
    "aria-label": "Search within the trace" });
  const run = () => {
    const text = input.value.trim();
    matches = text ? search(model, text) : [];
    at = -1;
    timeline.setMatches(matches);
    counter.textContent = text ? `${matches.length ? "" : "no matches"}${matches.length ? `${matches.length} matches` : ""}` : "";
    if (matches.length) step(1);
  };
  const step = (delta) => {
    if (!matches.length) return;
    at = (at + delta + matches.length) % matches.length;
    timeline.select(matches[at]);
    counter.textContent = `${at + 1} of ${matches.length}`;
  };
  input.addEventListener("input", debounce(run, 150));
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      step(e.shiftKey ? -1 : 1);
    } else if (e.key === "Escape") {
      input.value = "";
      run();
      timeline.body.focus();
    } else if (e.key === "ArrowDown") {
      e.preventDefault();
      timeline.body.focus();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "/" && document.activeElement !== input && !/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) {
      e.preventDefault();
      input.focus();
    }
  });
  return h("div", { class: "toolbar" },
    input, counter,
    h("button", { type: "button", text: "Expand all", on: { click: () => timeline.expandAll() } }),
    h("button", { type: "button", text: "Collapse all", on: { click: () => timeline.collapseAll() } }),
    h("span", { class: "legend" }, ["llm", "retriever", "reranker", "embedding", "tool", "agent", "chain", "unknown"]
      .map((c) => h("span", { class: `legend-item cat-${c}` }, h("i", { class: "swatch" }), categoryLabel(c)))),
    h("span", { class: "muted keys", text: "↑↓ move · ←→ fold · enter toggle · / search" }));
}
