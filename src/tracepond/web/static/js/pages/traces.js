// The traces page: newest first, live, filters in the URL, a query box with inline errors.
import { h, notice, debounce, setTitle } from "../dom.js";
import { getJSON, getCapabilities, traceHref, sessionHref, ApiError } from "../api.js";
import * as fmt from "../format.js";
import { startLive } from "../live.js";
import { withProject } from "../project.js";

const PAGE = 50;
const POLL_MS = 2000;
// URL parameter = /api/traces query parameter (docs/query.md); a control is enabled only when
// the server's OpenAPI schema lists it.
const FILTERS = [
  { name: "since", label: "Since", options: [["", "any time"], ["15m", "last 15 min"], ["1h", "last hour"], ["24h", "last 24 h"], ["7d", "last 7 days"]] },
  { name: "status", label: "Status", options: [["", "any status"], ["error", "errors"], ["ok", "no errors"]] },
  { name: "service", label: "Service", placeholder: "any service" },
  { name: "category", label: "Has span", options: [["", "any kind"],
    ...["llm", "retriever", "reranker", "embedding", "tool", "agent", "chain"].map((c) => [c, c])] },
  { name: "model", label: "Model", placeholder: "any model" },
  { name: "min_duration", label: "Min duration", placeholder: "e.g. 2s", size: 7 },
  { name: "min_tokens", label: "Min tokens", placeholder: "0", type: "number", size: 7 },
  { name: "session_id", label: "Session", placeholder: "any session" },
];
const FREE_TEXT = ["q", "text"];
const QUERY_FIELDS = "name status status.message duration kind category service model provider tokens.input"
  + " tokens.output tokens.total cost documents.count tool.name error.type session.id user.id";
const QUERY_EXAMPLES = [
  '{ category = "retriever" && documents.count = 0 } && { category = "llm" }',
  '{ category = "llm" && duration > 2s }',
  '{ category = "tool" && status = error }',
  '{ name =~ "agent" } >> { error.type != nil }',
];
const KNOWN = new Set([...FILTERS.map((f) => f.name), ...FREE_TEXT]);
// Other /api/traces filters a link may carry (user_id, tag, max_cost, ...) are kept and shown.
const NOT_FILTERS = new Set(["cursor", "limit", "project"]); // the project is the page's, not a filter

export async function render(root) {
  setTitle("Traces");
  const caps = await getCapabilities();
  const supported = caps.params("/api/traces");
  const state = readUrl();
  const page = new TracesPage(root, state, supported);
  page.load();
}

// {name: value} for the known filters ("" when absent), plus [name, value] pairs for any other
// parameter in the URL (repeatable ones such as attr included).
function readUrl() {
  const params = new URLSearchParams(location.search);
  const state = {};
  for (const name of KNOWN) state[name] = params.get(name) || "";
  state.extra = [...params].filter(([name, value]) => !KNOWN.has(name) && !NOT_FILTERS.has(name) && value);
  return state;
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
            ["Time", "Trace", "Service", "Duration", "Spans", "Tokens", "Cost", "Status", "Session · user"]
              .map((label, i) => h("th", { class: i >= 3 && i <= 6 ? "num" : null, text: label })))),
          this.tbody),
        this.empty, this.more));
    this.live = startLive(() => this.poll(), POLL_MS);
  }

  filterBar() {
    const queryEnabled = this.supported.has("q");
    this.queryInput = h("input", {
      type: "search", class: "query", name: "q", value: this.state.q, spellcheck: "false",
      placeholder: queryEnabled ? 'Query (Enter), e.g. { category = "llm" && duration > 2s } && { status = error }' : "Query language: not available on this server yet",
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
    const syntax = h("div", { class: "query-help", hidden: true, id: "query-help" },
      h("p", {}, "A selector ", h("code", { text: "{ … }" }), " holds conditions on one span; ",
        h("code", { text: "&&" }), " / ", h("code", { text: "||" }), " combine selectors (the trace has both / either), ",
        h("code", { text: "{A} > {B}" }), " B's parent matches A, ", h("code", { text: "{A} >> {B}" }), " an ancestor does."),
      h("p", {}, "Fields: ", h("code", { text: QUERY_FIELDS }), "; raw attributes ", h("code", { text: "span.<key>" }), ", ",
        h("code", { text: "resource.<key>" }), ". Operators: ", h("code", { text: "= != > >= < <= =~ !~" }), "."),
      h("ul", {}, QUERY_EXAMPLES.map((q) => h("li", {}, h("button", { type: "button", class: "link mono", text: q,
        title: "Use this query", on: { click: () => { this.queryInput.value = q; this.apply({ q }); } } })))));
    const help = h("button", { type: "button", class: "link help", text: "Syntax", "aria-controls": "query-help",
      "aria-expanded": "false", on: { click: (e) => {
        syntax.hidden = !syntax.hidden;
        e.currentTarget.setAttribute("aria-expanded", String(!syntax.hidden));
      } } });
    return h("form", { class: "filters", role: "search", on: { submit: (e) => e.preventDefault() } },
      h("div", { class: "query-row" }, this.queryInput, text, help),
      this.queryError,
      syntax,
      h("div", { class: "filter-row" }, filters, this.extraChips(),
        h("button", { type: "button", class: "link", text: "Clear filters", on: { click: () => this.clearAll() } }),
        this.count));
  }

  // Filters from the URL without a control of their own, each removable.
  extraChips() {
    return this.state.extra.map(([name, value], i) => h("span", { class: "chip extra-filter", "data-name": name },
      `${name} = ${value}`,
      h("button", { type: "button", class: "link", text: "×", "aria-label": `Remove ${name}`, on: { click: (e) => {
        e.currentTarget.parentElement.remove();
        this.state.extra = this.state.extra.filter((_, j) => j !== i);
        this.apply({});
      } } })));
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
        disabled: !enabled, title, "aria-label": f.label, min: f.type === "number" ? "0" : null, size: f.size || null });
      control.addEventListener("change", () => this.apply({ [f.name]: control.value.trim() }));
    }
    return h("label", { class: enabled ? "filter" : "filter disabled" }, h("span", { text: f.label }), control);
  }

  apply(changes) {
    Object.assign(this.state, changes);
    const params = new URLSearchParams();
    for (const name of KNOWN) if (this.state[name]) params.set(name, this.state[name]);
    for (const [name, value] of this.state.extra) params.append(name, value);
    const search = params.toString();
    history.replaceState(null, "", withProject(search ? `/?${search}` : "/"));
    this.load();
  }

  clearAll() {
    for (const key of KNOWN) this.state[key] = "";
    this.state.extra = [];
    for (const chip of document.querySelectorAll(".extra-filter")) chip.remove();
    for (const el of document.querySelectorAll(".filters input, .filters select")) el.value = "";
    this.apply({});
  }

  // API parameters for the current filters; filters the server cannot apply are reported.
  apiParams() {
    const params = { limit: PAGE };
    const ignored = [];
    const pairs = [...[...KNOWN].map((name) => [name, this.state[name]]), ...this.state.extra];
    for (const [key, value] of pairs) {
      if (!value) continue;
      if (!this.supported.has(key)) ignored.push(key);
      else if (key in params) params[key] = [].concat(params[key], value);
      else params[key] = value;
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
    this.invalid = false;
    this.live.resume();
    this.queryError.replaceChildren();
    this.queryInput.classList.remove("invalid");
    this.queryInput.removeAttribute("aria-invalid");
    this.tbody.replaceChildren();
    this.rows.clear();
    this.addRows(page.traces, "end");
    this.cursor = page.next_cursor;
    this.finish(page);
  }

  showError(error) {
    this.tbody.replaceChildren();
    this.rows.clear();
    this.more.hidden = true;
    this.count.textContent = "";
    if (error instanceof ApiError && (error.status === 403 || error.code === "unknown_project")) {
      // The project, not the filters: polling would be refused the same way (and logged by the
      // server each time).
      this.invalid = true;
      this.live.pause("until you choose a project you can read");
      this.empty.replaceChildren(notice("error", error.status === 403 ? "Not allowed in this project" : "No such project", error.message));
      return;
    }
    if (error instanceof ApiError && error.status === 400) {
      this.invalid = true;
      this.live.pause(inQueryError(error) ? "until the query is fixed" : "until the filters are fixed");
      // Shown under the box: the message, and for a query error the query with a caret under
      // the position the parser stopped at.
      const q = this.state.q;
      const inQuery = inQueryError(error);
      const children = [h("div", { class: "query-error-message", text: error.message })];
      if (inQuery && q && error.position !== null) {
        const at = Math.max(0, Math.min(error.position, q.length));
        children.unshift(h("pre", { class: "query-caret", "data-position": at },
          h("span", { text: q.slice(0, at) }),
          h("mark", { text: q.slice(at, at + 1) || " " }),
          h("span", { text: q.slice(at + 1) }),
          "\n", h("span", { class: "caret", text: `${" ".repeat(at)}^` })));
      }
      this.queryError.replaceChildren(...children);
      if (inQuery) {
        this.queryInput.classList.add("invalid");
        this.queryInput.setAttribute("aria-invalid", "true");
        if (error.position !== null && document.activeElement === this.queryInput) {
          this.queryInput.setSelectionRange(error.position, error.position);
        }
      }
      this.empty.replaceChildren(notice("info", inQuery ? "Fix the query to see traces" : "Fix the filters to see traces"));
      return;
    }
    this.empty.replaceChildren(notice("error", "Cannot load traces", error.message));
  }

  finish(page) {
    this.more.hidden = !this.cursor;
    const total = typeof page.count === "number" ? page.count : null;
    const plural = (n, word) => `${fmt.count(n)} ${word}${n === 1 ? "" : "s"}`;
    this.count.textContent = total !== null ? `${plural(total, "trace")}${page.count_capped ? "+" : ""}`
      : `${fmt.count(this.rows.size)} shown`;
    const filtered = [...KNOWN].some((name) => this.state[name]) || this.state.extra.length > 0;
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
    if (this.invalid) return; // nothing to refresh until the filters are fixed
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
  const name = t.root_name || "(root not received yet)";
  const tr = h("tr", { "data-trace-id": t.trace_id, "data-start": t.start_time_unix_nano, class: errors ? "has-error" : null },
    h("td", { class: "time", title: fmt.isoTime(t.start_time_unix_nano), text: fmt.time(t.start_time_unix_nano) }),
    h("td", { class: "name" },
      h("div", { class: "trace-title" }, h("a", { href, text: name, title: name }),
        t.models && t.models.length ? h("span", { class: "chip model", text: t.models.join(", ") }) : null,
        (t.tags || []).map((tag) => h("a", { class: "chip tag", href: `/?tag=${encodeURIComponent(tag)}`,
          text: String(tag), title: `Traces tagged ${tag}` }))),
      preview(t)),
    h("td", { class: "service", text: t.service_name || fmt.NONE, title: t.service_name || null }),
    h("td", { class: "num", text: fmt.duration(t.duration_ns) }),
    h("td", { class: "num", text: fmt.count(t.span_count) }),
    h("td", { class: "num", text: fmt.count(tokens) }),
    h("td", { class: "num", text: fmt.cost(t.cost) }),
    h("td", {}, errors
      ? h("span", { class: "badge error", text: errors === 1 ? "error" : `${errors} errors` })
      : h("span", { class: "badge ok", text: "ok" })),
    h("td", { class: "session" },
      t.session_id ? h("a", { href: sessionHref(t.session_id), text: t.session_id, title: t.session_id }) : fmt.NONE,
      t.user_id ? h("div", { class: "user" }, h("a", { href: `/?user_id=${encodeURIComponent(t.user_id)}`, text: t.user_id,
        title: `Traces of user ${t.user_id}` })) : null));
  tr.addEventListener("click", (event) => {
    if (event.target.closest("a") || getSelection().toString()) return;
    if (event.ctrlKey || event.metaKey) window.open(href, "_blank", "noopener");
    else location.assign(href);
  });
  return tr;
}

// What the trace was asked and answered: the root's input and output, first line (the API
// bounds them); whole on hover.
function preview(t) {
  const asked = t.input_preview;
  const answered = t.output_preview;
  if (!asked && !answered) return null;
  return h("div", { class: "io-preview" },
    asked ? h("span", { class: "io-in", text: asked, title: asked }) : null,
    asked && answered ? h("span", { class: "io-arrow", text: "→", "aria-label": "answered" }) : null,
    answered ? h("span", { class: "io-out", text: answered, title: answered }) : null);
}

function inQueryError(error) {
  return error.position !== null || error.code === "invalid_query";
}

function sumOrNull(a, b) {
  return a === null || a === undefined ? (b ?? null) : a + (b ?? 0);
}
