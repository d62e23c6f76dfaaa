// The traces page: newest first, live, filters in the URL, a query box with inline errors.
import { h, notice, debounce, setTitle } from "../dom.js";
import { getJSON, getCapabilities, traceHref, sessionHref, ApiError } from "../api.js";
import * as fmt from "../format.js";
import { startLive } from "../live.js";

const PAGE = 50;
const POLL_MS = 2000;
// URL parameter = API query parameter (issue 5's search API); a filter shows only when the
// server's OpenAPI schema lists it.
const FILTERS = [
  { name: "service", label: "Service", placeholder: "any service" },
  { name: "status", label: "Status", options: [["", "any status"], ["error", "errors"], ["ok", "no errors"]] },
  { name: "model", label: "Model", placeholder: "any model" },
  { name: "session_id", label: "Session", placeholder: "any session" },
  { name: "min_duration_ms", label: "Min ms", placeholder: "0", type: "number" },
];
const FREE_TEXT = ["q", "text"];

export async function render(root) {
  setTitle("Traces");
  const caps = await getCapabilities();
  const supported = caps.params("/api/traces");
  const state = readUrl();
  const page = new TracesPage(root, state, supported);
  page.load();
}

function readUrl() {
  const params = new URLSearchParams(location.search);
  const out = {};
  for (const name of [...FILTERS.map((f) => f.name), ...FREE_TEXT]) out[name] = params.get(name) || "";
  return out;
}

class TracesPage {
  constructor(root, state, supported) {
    this.state = state;
    this.supported = supported;
    this.rows = new Map(); // trace_id -> {tr, summary}
    this.cursor = null;
    this.generation = 0;
    this.queryError = h("div", { class: "query-error", role: "alert", id: "query-error" });
    this.banner = h("div", { class: "banner-slot" });
    this.tbody = h("tbody");
    this.count = h("span", { class: "muted count" });
    this.more = h("button", { type: "button", class: "more", text: "Load older traces", hidden: true,
      on: { click: () => this.loadMore() } });
    this.empty = h("div", { class: "empty-slot" });
    root.append(
      h("div", { class: "page traces-page" },
        this.filterBar(),
        this.banner,
        h("table", { class: "grid traces" },
          h("thead", {}, h("tr", {},
            ["Time", "Root span", "Service", "Duration", "Spans", "Tokens", "Cost", "Status", "Session"]
              .map((label, i) => h("th", { class: i >= 3 && i <= 6 ? "num" : null, text: label })))),
          this.tbody),
        this.empty, this.more));
    this.live = startLive(() => this.poll(), POLL_MS);
  }

  filterBar() {
    const queryEnabled = this.supported.has("q");
    this.queryInput = h("input", {
      type: "search", class: "query", name: "q", value: this.state.q, spellcheck: "false",
      placeholder: queryEnabled ? "Query, e.g. status = error and model = gpt-4o" : "Query language: not available on this server yet",
      disabled: !queryEnabled, "aria-describedby": "query-error", "aria-label": "Query",
    });
    this.queryInput.addEventListener("keydown", (e) => {
      if (e.key === "Enter") this.apply({ q: this.queryInput.value.trim() });
    });
    const text = h("input", { type: "search", name: "text", value: this.state.text, placeholder: "Full text",
      disabled: !this.supported.has("text"), "aria-label": "Full text",
      title: this.supported.has("text") ? "Search inputs, outputs and attributes" : "Not available on this server yet" });
    text.addEventListener("input", debounce(() => this.apply({ text: text.value.trim() }), 300));
    const filters = FILTERS.map((f) => this.filterControl(f));
    return h("form", { class: "filters", role: "search", on: { submit: (e) => e.preventDefault() } },
      h("div", { class: "query-row" }, this.queryInput, text, this.count),
      this.queryError,
      h("div", { class: "filter-row" }, filters,
        h("button", { type: "button", class: "link", text: "Clear filters", on: { click: () => this.clearAll() } })));
  }

  filterControl(f) {
    const enabled = this.supported.has(f.name);
    const value = this.state[f.name];
    const title = enabled ? f.label : `${f.label}: filtering is not available on this server yet`;
    let control;
    if (f.options) {
      control = h("select", { name: f.name, disabled: !enabled, title, "aria-label": f.label },
        f.options.map(([v, label]) => h("option", { value: v, text: label, selected: v === value })));
      control.addEventListener("change", () => this.apply({ [f.name]: control.value }));
    } else {
      control = h("input", { name: f.name, type: f.type || "text", value, placeholder: f.placeholder,
        disabled: !enabled, title, "aria-label": f.label, min: f.type === "number" ? "0" : null });
      control.addEventListener("change", () => this.apply({ [f.name]: control.value.trim() }));
    }
    return h("label", { class: enabled ? "filter" : "filter disabled" }, h("span", { text: f.label }), control);
  }

  apply(changes) {
    Object.assign(this.state, changes);
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(this.state)) if (value) params.set(key, value);
    const search = params.toString();
    history.replaceState(null, "", search ? `/?${search}` : "/");
    this.load();
  }

  clearAll() {
    for (const key of Object.keys(this.state)) this.state[key] = "";
    for (const el of document.querySelectorAll(".filters input, .filters select")) el.value = "";
    this.apply({});
  }

  // API parameters for the current filters; filters the server cannot apply are reported.
  apiParams() {
    const params = { limit: PAGE };
    const ignored = [];
    for (const [key, value] of Object.entries(this.state)) {
      if (!value) continue;
      if (this.supported.has(key)) params[key] = value;
      else ignored.push(key);
    }
    return { params, ignored };
  }

  async load() {
    const generation = ++this.generation;
    const { params, ignored } = this.apiParams();
    this.banner.replaceChildren(ignored.length
      ? notice("warn", "Some filters are not available on this server yet",
        `Ignored: ${ignored.join(", ")}. Showing traces without them.`)
      : "");
    let page;
    try {
      page = await getJSON("/api/traces", params);
    } catch (error) {
      if (generation !== this.generation) return;
      this.showError(error);
      return;
    }
    if (generation !== this.generation) return;
    this.queryError.textContent = "";
    this.queryInput.classList.remove("invalid");
    this.tbody.replaceChildren();
    this.rows.clear();
    this.addRows(page.traces, "end");
    this.cursor = page.next_cursor;
    this.finish(page);
  }

  showError(error) {
    if (error instanceof ApiError && error.status === 400 && this.state.q) {
      this.queryError.textContent = error.message;
      this.queryInput.classList.add("invalid");
      return;
    }
    this.empty.replaceChildren(notice("error", "Cannot load traces", error.message));
  }

  finish(page) {
    this.more.hidden = !this.cursor;
    const total = typeof page.count === "number" ? page.count : null;
    this.count.textContent = total !== null ? `${fmt.count(total)} traces` : `${fmt.count(this.rows.size)} shown`;
    const filtered = Object.values(this.state).some(Boolean);
    this.empty.replaceChildren(this.rows.size ? "" : filtered
      ? notice("info", "No traces match these filters")
      : notice("info", "No traces yet",
        `Send OTLP spans to ${location.origin}/v1/traces (or gRPC), or run “tracepond demo”. New traces appear here live.`));
  }

  async loadMore() {
    if (!this.cursor) return;
    const generation = this.generation;
    const { params } = this.apiParams();
    const page = await getJSON("/api/traces", { ...params, cursor: this.cursor });
    if (generation !== this.generation) return;
    this.addRows(page.traces, "end");
    this.cursor = page.next_cursor;
    this.finish(page);
  }

  // New traces are inserted above without moving what the reader is looking at.
  async poll() {
    const generation = this.generation;
    const { params } = this.apiParams();
    const page = await getJSON("/api/traces", params);
    if (generation !== this.generation) return;
    const fresh = page.traces.filter((t) => !this.rows.has(t.trace_id));
    for (const t of page.traces) if (this.rows.has(t.trace_id)) this.update(t);
    if (!fresh.length) return;
    const before = document.documentElement.scrollHeight;
    const scrolled = window.scrollY > 0;
    this.addRows(fresh, "start");
    if (scrolled) window.scrollBy(0, document.documentElement.scrollHeight - before);
    this.finish(page);
  }

  addRows(traces, where) {
    const fragment = document.createDocumentFragment();
    for (const t of traces) {
      if (this.rows.has(t.trace_id)) continue;
      const tr = rowFor(t);
      if (where === "start") tr.classList.add("fresh");
      this.rows.set(t.trace_id, { tr, summary: t });
      fragment.append(tr);
    }
    if (where === "start") {
      // Keep newest first even when several arrive at once.
      const sorted = [...fragment.children].sort((a, b) => Number(b.dataset.start) - Number(a.dataset.start));
      this.tbody.prepend(...sorted);
    } else {
      this.tbody.append(fragment);
    }
  }

  update(summary) {
    const row = this.rows.get(summary.trace_id);
    if (row.summary.span_count === summary.span_count && row.summary.end_time_unix_nano === summary.end_time_unix_nano) return;
    const tr = rowFor(summary);
    row.tr.replaceWith(tr);
    row.tr = tr;
    row.summary = summary;
  }
}

function rowFor(t) {
  const href = traceHref(t.trace_id);
  const tokens = t.total_tokens ?? sumOrNull(t.input_tokens, t.output_tokens);
  const errors = t.error_count || 0;
  const tr = h("tr", { "data-trace-id": t.trace_id, "data-start": t.start_time_unix_nano, class: errors ? "has-error" : null },
    h("td", { class: "time", title: fmt.isoTime(t.start_time_unix_nano), text: fmt.time(t.start_time_unix_nano) }),
    h("td", { class: "name" }, h("a", { href, text: t.root_name || "(root not received yet)" }),
      t.models && t.models.length ? h("span", { class: "chip model", text: t.models.join(", ") }) : null),
    h("td", { class: "service", text: t.service_name || fmt.NONE }),
    h("td", { class: "num", text: fmt.duration(t.duration_ns) }),
    h("td", { class: "num", text: fmt.count(t.span_count) }),
    h("td", { class: "num", text: fmt.count(tokens) }),
    h("td", { class: "num", text: fmt.cost(t.cost) }),
    h("td", {}, errors
      ? h("span", { class: "badge error", text: errors === 1 ? "error" : `${errors} errors` })
      : h("span", { class: "badge ok", text: "ok" })),
    h("td", { class: "session" }, t.session_id ? h("a", { href: sessionHref(t.session_id), text: t.session_id }) : fmt.NONE));
  tr.addEventListener("click", (event) => {
    if (event.target.closest("a") || getSelection().toString()) return;
    if (event.ctrlKey || event.metaKey) window.open(href, "_blank", "noopener");
    else location.assign(href);
  });
  return tr;
}

function sumOrNull(a, b) {
  return a === null || a === undefined ? (b ?? null) : a + (b ?? 0);
}
