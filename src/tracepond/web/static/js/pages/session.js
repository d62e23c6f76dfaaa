// One session as a conversation: each turn's input and output, linking to its trace.
import { h, append, notice, setTitle } from "../dom.js";
import { getJSON, traceHref } from "../api.js";
import * as fmt from "../format.js";
import { asText } from "../values.js";
import { unavailable } from "../unavailable.js";

export async function render(root, { sessionId }) {
  setTitle(`Session ${sessionId}`);
  const page = h("div", { class: "page session-page" },
    h("h1", {}, "Session ", h("code", { text: sessionId })));
  root.append(page);
  let data;
  try {
    data = await getJSON(`/api/sessions/${encodeURIComponent(sessionId)}`);
  } catch (error) {
    page.append(error.missingEndpoint ? unavailable("Sessions are", "GET /api/sessions/{id}")
      : error.status === 404 ? notice("info", "Session not found", `No trace carries session ${sessionId}.`)
        : notice("error", "Cannot load this session", error.message));
    return;
  }
  const turns = data.traces || [];
  const sum = (key) => turns.reduce((t, x) => t + (x[key] || 0), 0);
  const costs = turns.map((t) => t.cost).filter((c) => typeof c === "number");
  const users = [...new Set(turns.map((t) => t.user_id).filter(Boolean))];
  const errors = turns.filter((t) => t.error_count).length;
  append(page, [
    h("p", { class: "muted session-facts" },
      `${turns.length} ${turns.length === 1 ? "turn" : "turns"}`,
      users.length ? ` · user ${users.join(", ")}` : "",
      turns.length ? ` · ${fmt.time(turns[0].start_time_unix_nano, { date: "always" })}` : "",
      ` · ${fmt.count(sum("total_tokens"))} tokens`,
      costs.length ? ` · ${fmt.cost(costs.reduce((a, b) => a + b, 0))}` : "",
      errors ? ` · ${errors} with errors` : ""),
    data.truncated ? notice("warn", "Long session", "Only the first 500 traces are shown.") : null,
    h("ol", { class: "turns" }, turns.map((t, i) => turn(t, i)))]);
}

function turn(t, i) {
  const href = traceHref(t.trace_id);
  const tokens = t.total_tokens ? `${fmt.count(t.total_tokens)} tokens` : null;
  return h("li", { class: t.error_count ? "turn has-error" : "turn", "data-trace-id": t.trace_id },
    h("div", { class: "turn-head" },
      h("strong", { text: `#${i + 1}` }),
      h("span", { class: "muted turn-meta" },
        h("span", { text: fmt.time(t.start_time_unix_nano) }),
        h("span", { text: fmt.duration(t.duration_ns) }),
        tokens ? h("span", { text: tokens }) : null,
        t.cost !== null && t.cost !== undefined ? h("span", { text: fmt.cost(t.cost) }) : null,
        t.models && t.models.length ? h("span", { text: t.models.join(", ") }) : null),
      t.error_count ? h("span", { class: "badge error", text: t.error_count === 1 ? "error" : `${t.error_count} errors` }) : null,
      h("a", { href, class: "trace-link", text: `${t.root_name || "trace"} →`, title: `Open trace ${t.trace_id}` })),
    h("div", { class: "chat" },
      bubble("user", "input", t.input),
      bubble("assistant output", "output", t.output),
      absent(t.input) && absent(t.output) ? h("p", { class: "muted", text: "No input or output recorded in this trace." }) : null));
}

const absent = (v) => v === null || v === undefined || v === "";

function bubble(role, label, value) {
  if (absent(value)) return null;
  return h("div", { class: `bubble role-${role}`, "data-role": label },
    h("div", { class: "bubble-head" }, h("span", { class: "role", text: label })),
    h("div", { class: "bubble-text", text: asText(value) }));
}
