// The detail panel of the selected span: what kind of step it was first (LLM conversation,
// retrieved documents, tool call), then everything about any span.
import { h, append, copyButton, notice } from "../dom.js";
import { getJSON, traceHref, sessionHref, isHexId } from "../api.js";
import * as fmt from "../format.js";
import { pretty, kvTable, scalarText, parseMaybeJson, asText } from "../values.js";
import { conversation } from "./chat.js";
import { documentCards } from "./documents.js";
import { categoryLabel } from "./words.js";

const TTFT_ATTRIBUTE = "gen_ai.response.time_to_first_chunk";
const FIRST_TOKEN_EVENT = "gen_ai.first_token";
// A tool definition longer than this opens collapsed (its name and description still show).
const TOOL_OPEN_LINES = 40;

export class DetailPanel {
  constructor(traceId) {
    this.traceId = traceId;
    this.cache = new Map();
    this.element = h("aside", { class: "detail", "aria-label": "Span details", tabindex: "-1" },
      h("p", { class: "muted pad", text: "Select a span to see its details." }));
    this.current = null;
  }

  async show(node) {
    this.current = node.id;
    const cached = this.cache.get(node.id);
    if (cached) return this.draw(cached, node);
    if (node.span.attributes) this.draw(node.span, node, true);
    else this.element.replaceChildren(h("p", { class: "muted pad", text: "Loading span…" }));
    try {
      const full = await getJSON(`/api/traces/${this.traceId}/spans/${node.id}`);
      this.cache.set(node.id, full);
      if (this.current === node.id) this.draw(full, node);
    } catch (error) {
      if (this.current === node.id && !node.span.attributes) {
        this.element.replaceChildren(notice("error", "Cannot load this span", error.message));
      }
    }
  }

  draw(span, node, partial = false) {
    const scroll = this.element.scrollTop;
    const view = span.view || node.view || null;
    this.element.replaceChildren();
    append(this.element, [
      header(span, view, node),
      ...kindSections(span, view),
      ...errorSections(span, view),
      ...ioSections(span, view),
      contextSection(view),
      section("Attributes", kvTable(span.attributes, { filterable: true, copyAll: true, truncated: span.truncated_attributes }),
        { id: "attributes", count: Object.keys(span.attributes || {}).length }),
      eventsSection(span),
      linksSection(span),
      partial ? null : resourceSection(span),
      idsSection(span, this.traceId, partial)]);
    this.element.dataset.spanId = span.span_id;
    this.element.dataset.category = view ? view.category : "";
    this.element.scrollTop = scroll;
  }
}

function section(title, content, { open = true, id = null, count = null } = {}) {
  return h("details", { class: "section", open, "data-section": id },
    h("summary", {}, title, count !== null ? h("span", { class: "muted count", text: ` ${count}` }) : null),
    h("div", { class: "section-body" }, content));
}

function header(span, view, node) {
  const status = span.status || {};
  return h("div", { class: "detail-head" },
    h("h2", { class: "span-name", text: span.name }),
    h("div", { class: "chips" },
      h("span", { class: `chip cat cat-${node.category}`, text: categoryLabel(node.category) }),
      spanKindChip(span.kind),
      h("span", { class: "chip", text: span.service_name }),
      // A span that set no status (most steps) ended normally as far as anyone knows: no badge.
      status.code === "error" ? h("span", { class: "badge error", text: "error" })
        : status.code === "ok" ? h("span", { class: "badge ok", text: "ok" }) : null,
      node.span.orphan ? h("span", { class: "chip warn", text: "orphan: parent missing" }) : null,
      node.span.cycle ? h("span", { class: "chip warn", text: "parent cycle broken here" }) : null),
    h("div", { class: "facts" },
      fact("Start", fmt.time(span.start_time_unix_nano, { date: "always" })),
      fact("Duration", fmt.duration(span.duration_ns)),
      view && view.model ? fact("Model", view.model) : null,
      view && view.usage ? fact("Tokens", fmt.count(view.usage.total_tokens ?? sum(view.usage.input_tokens, view.usage.output_tokens))) : null,
      view && view.cost !== null && view.cost !== undefined ? fact("Cost", costText(span, view)) : null),
    status.message ? h("p", { class: "status-message", text: status.message }) : null);
}

// Only kinds that tell a reader something: a request handled or a call made to another service.
const SPAN_KIND_WORDS = {
  server: ["handles a request", "OpenTelemetry span kind SERVER"],
  client: ["calls out", "OpenTelemetry span kind CLIENT"],
  producer: ["sends a message", "OpenTelemetry span kind PRODUCER"],
  consumer: ["handles a message", "OpenTelemetry span kind CONSUMER"],
};

function spanKindChip(kind) {
  const words = SPAN_KIND_WORDS[kind];
  return words ? h("span", { class: "chip kind", "data-kind": kind, text: words[0], title: words[1] }) : null;
}

// "$0.0021 · computed from genai-prices openai/gpt-4o-mini" or "· sent by the producer".
function costText(span, view) {
  const source = span.cost_source ?? view.cost_source ?? null;
  const price = span.cost_price ?? view.cost_price ?? null;
  const amount = fmt.cost(view.cost);
  if (source === "sent") return `${amount} · sent by the producer`;
  if (source === "computed") return price ? `${amount} · computed from ${String(price).replace(":", " ")}` : `${amount} · computed`;
  return amount;
}

function fact(label, value) {
  return h("div", { class: "fact" }, h("span", { class: "muted", text: label }), h("span", { class: "fact-value", text: value }));
}

function kindSections(span, view) {
  if (!view) return [];
  switch (view.category) {
    case "llm":
    case "embedding":
      return llmSections(span, view);
    case "retriever":
    case "reranker":
      return retrievalSections(view);
    case "tool":
      return toolSections(view);
    case "agent":
      return view.agent_name ? [section("Agent", kvTable({ name: view.agent_name }))] : [];
    default:
      return [];
  }
}

function llmSections(span, view) {
  const out = [];
  // What was said comes first; the model, usage and parameters after it.
  const withheld = view.withheld || {};
  const messages = [];
  if (view.input_messages && view.input_messages.length) messages.push(conversation(view.input_messages));
  else if (withheld.input_messages) messages.push(withheldNote("Input messages", withheld.input_messages));
  if (view.output_messages && view.output_messages.length) messages.push(conversation(view.output_messages, { output: true }));
  else if (withheld.output_messages) messages.push(withheldNote("Output messages", withheld.output_messages));
  if (messages.length) out.push(section("Conversation", messages, { id: "conversation" }));
  const tools = toolDefinitions(span, view);
  if (tools.length) out.push(section("Tools offered", tools.map(toolDefinition), { id: "tools", count: tools.length }));
  const u = view.usage || {};
  const model = { model: view.model, provider: view.provider };
  if (view.request_model && view.request_model !== view.model) model.request_model = view.request_model;
  if (view.response_model && view.response_model !== view.model) model.response_model = view.response_model;
  const hasCost = view.cost !== null && view.cost !== undefined;
  const metrics = h("div", { class: "metrics" },
    metric("Input tokens", fmt.count(u.input_tokens)),
    metric("Output tokens", fmt.count(u.output_tokens)),
    metric("Total tokens", fmt.count(u.total_tokens ?? sum(u.input_tokens, u.output_tokens))),
    u.cache_read_tokens != null ? metric("Cache read", fmt.count(u.cache_read_tokens)) : null,
    u.cache_write_tokens != null ? metric("Cache write", fmt.count(u.cache_write_tokens)) : null,
    u.reasoning_tokens != null ? metric("Reasoning", fmt.count(u.reasoning_tokens)) : null,
    metric("Cost", fmt.cost(view.cost)),
    metric("Latency", fmt.duration(span.duration_ns)),
    metric("Time to first token", fmt.duration(timeToFirstToken(span))));
  const costNote = hasCost ? h("p", { class: "muted cost-source", text: `Cost: ${costText(span, view)}` }) : null;
  out.push(section("Model", [kvTable(dropEmpty(model)), metrics, costNote], { id: "llm" }));
  const params = view.invocation_parameters || {};
  if (Object.keys(params).length) out.push(section("Parameters", kvTable(params), { id: "parameters" }));
  return out;
}

// The tools the model was offered: gen_ai.tool.definitions, else the request's "tools"
// parameter (LangChain, OpenAI).
function toolDefinitions(span, view) {
  const attributes = span.attributes || {};
  const raw = attributes["gen_ai.tool.definitions"] ?? (view.invocation_parameters || {}).tools;
  const parsed = parseMaybeJson(raw);
  return Array.isArray(parsed) ? parsed : [];
}

function toolDefinition(tool) {
  const fn = tool && typeof tool === "object" ? (tool.function || tool) : {};
  const name = typeof fn.name === "string" ? fn.name : "(unnamed tool)";
  const body = pretty(tool, { className: "tool-definition" });
  const lines = asText(tool).split("\n").length;
  return h("details", { class: "tool-def", open: lines <= TOOL_OPEN_LINES, "data-tool": name },
    h("summary", {}, h("strong", { text: name }),
      typeof fn.description === "string" ? h("span", { class: "muted", text: ` — ${fn.description}` }) : null),
    body);
}

function metric(label, value) {
  return h("div", { class: "metric" }, h("div", { class: "metric-value", text: value }), h("div", { class: "muted", text: label }));
}

function withheldNote(what, reason) {
  return h("p", { class: "withheld", text: reason === "redacted"
    ? `${what} were redacted by the producer.`
    : `${what} were not captured (content capture is off in the producer).` });
}

// Seconds in the SDK's attribute, else the first-token event's offset from the span start.
export function timeToFirstToken(span) {
  const seconds = Number((span.attributes || {})[TTFT_ATTRIBUTE]);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1e9);
  const event = (span.events || []).find((e) => e.name === FIRST_TOKEN_EVENT);
  return event ? event.time_unix_nano - span.start_time_unix_nano : null;
}

function retrievalSections(view) {
  const out = [];
  if (view.input !== null && view.input !== undefined) out.push(section("Query", pretty(view.input), { id: "query" }));
  out.push(section(view.category === "reranker" ? "Reranked documents" : "Documents", documentCards(view.documents),
    { id: "documents", count: (view.documents || []).length }));
  if (view.input_documents && view.input_documents.length) {
    out.push(section("Input documents", documentCards(view.input_documents),
      { id: "input-documents", open: false, count: view.input_documents.length }));
  }
  return out;
}

function toolSections(view) {
  const tool = view.tool || {};
  return [
    section("Tool", kvTable(dropEmpty({ name: tool.name, call_id: tool.call_id })), { id: "tool" }),
    section("Arguments", tool.arguments === null || tool.arguments === undefined
      ? h("p", { class: "muted", text: "none" }) : pretty(tool.arguments), { id: "arguments" }),
    section("Result", tool.result === null || tool.result === undefined
      ? h("p", { class: "muted", text: view.error ? "none (the tool failed)" : "none" }) : pretty(tool.result), { id: "result" }),
  ];
}

function errorSections(span, view) {
  const exceptions = (span.events || []).filter((e) => e.name === "exception");
  const err = view && view.error;
  if (!err && !exceptions.length) return [];
  const body = [];
  if (err && !exceptions.length) body.push(h("p", { class: "error-line" }, h("strong", { text: err.type || "error" }), err.message ? `: ${err.message}` : ""));
  for (const e of exceptions) {
    const a = e.attributes || {};
    body.push(h("div", { class: "exception" },
      h("p", {}, h("strong", { text: scalarText(a["exception.type"]) || "exception" }),
        a["exception.message"] ? `: ${scalarText(a["exception.message"])}` : ""),
      a["exception.stacktrace"] ? h("pre", { class: "stack", text: scalarText(a["exception.stacktrace"]) }) : null));
  }
  return [section("Error", body, { id: "error" })];
}

function ioSections(span, view) {
  if (!view) return [];
  const covered = (view.category === "llm" && (view.input_messages || view.output_messages)) || view.category === "tool";
  const out = [];
  const withheld = view.withheld || {};
  for (const [key, title] of [["input", "Input"], ["output", "Output"]]) {
    if (view.category === "retriever" && key === "input") continue;
    const value = view[key];
    if (value !== null && value !== undefined) {
      out.push(section(title, pretty(value), { id: key, open: !covered }));
    } else if (withheld[key]) {
      out.push(section(title, withheldNote(title, withheld[key]), { id: key }));
    }
  }
  return out;
}

function contextSection(view) {
  if (!view) return null;
  const rows = [];
  if (view.session_id) rows.push(["session", h("a", { href: sessionHref(view.session_id), text: view.session_id })]);
  if (view.user_id) rows.push(["user", view.user_id]);
  if (view.tags && view.tags.length) rows.push(["tags", view.tags.map((t) => h("span", { class: "chip", text: String(t) }))]);
  const meta = view.metadata && Object.keys(view.metadata).length ? kvTable(view.metadata) : null;
  if (!rows.length && !meta) return null;
  return section("Context", [
    h("table", { class: "kv" }, h("tbody", {}, rows.map(([k, v]) => h("tr", {}, h("th", { text: k }), h("td", {}, v))))),
    meta ? h("div", {}, h("h4", { text: "Metadata" }), meta) : null,
  ], { id: "context" });
}

function eventsSection(span) {
  const events = span.events || [];
  if (!events.length) return null;
  return section("Events", h("ol", { class: "events" }, events.map((e) =>
    h("li", {},
      h("div", {}, h("strong", { text: e.name }),
        h("span", { class: "muted", text: ` +${fmt.duration(e.time_unix_nano - span.start_time_unix_nano)}` })),
      e.attributes && Object.keys(e.attributes).length ? kvTable(e.attributes) : null))),
  { id: "events", count: events.length, open: events.length <= 20 });
}

function linksSection(span) {
  const links = span.links || [];
  if (!links.length) return null;
  return section("Links", h("ul", { class: "links" }, links.map((l) => {
    const ok = isHexId(l.trace_id, 32) && isHexId(l.span_id, 16);
    return h("li", {},
      ok ? h("a", { href: traceHref(l.trace_id, l.span_id), text: `${l.trace_id} / ${l.span_id}` })
        : h("code", { text: `${scalarText(l.trace_id)} / ${scalarText(l.span_id)}` }),
      l.attributes && Object.keys(l.attributes).length ? kvTable(l.attributes) : null);
  })), { id: "links", count: links.length });
}

function resourceSection(span) {
  const scope = span.scope || {};
  return section("Resource", [kvTable(span.resource, { copyAll: true }),
    h("h4", { text: "Instrumentation scope" }), kvTable(dropEmpty(scope))], { id: "resource", open: false });
}

function idsSection(span, traceId, partial) {
  const rows = [["trace_id", traceId], ["span_id", span.span_id], ["parent_span_id", span.parent_span_id]];
  if (!partial) {
    rows.push(["trace_state", span.trace_state], ["flags", span.flags],
      ["dropped attributes / events / links",
        `${span.dropped_attributes_count} / ${span.dropped_events_count} / ${span.dropped_links_count}`]);
  }
  const link = `${location.origin}${traceHref(traceId, span.span_id)}`;
  rows.push(["link", link]);
  return section("IDs", h("table", { class: "kv ids" }, h("tbody", {}, rows
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => h("tr", {}, h("th", { text: k }), h("td", {}, h("code", { text: String(v) }), copyButton(String(v))))))),
  { id: "ids" });
}

function dropEmpty(map) {
  return Object.fromEntries(Object.entries(map).filter(([, v]) => v !== null && v !== undefined && v !== ""));
}

function sum(a, b) {
  return a == null && b == null ? null : (a ?? 0) + (b ?? 0);
}
