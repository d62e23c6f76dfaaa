// One session as a conversation: each turn's input and output, linking to its trace.
import { h, notice, setTitle } from "../dom.js";
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
  page.append(h("p", { class: "muted" }, `${turns.length} turns`, data.user_id ? ` · user ${data.user_id}` : ""),
    h("ol", { class: "turns" }, turns.map((t, i) => turn(t, i))));
}

function turn(t, i) {
  const input = t.input ?? t.first_input;
  const output = t.output ?? t.last_output;
  return h("li", { class: "turn" },
    h("div", { class: "turn-head" },
      h("span", { class: "muted", text: `#${i + 1} · ${fmt.time(t.start_time_unix_nano)} · ${fmt.duration(t.duration_ns)}` }),
      t.error_count ? h("span", { class: "badge error", text: "error" }) : null,
      h("a", { href: traceHref(t.trace_id), text: "Open trace →" })),
    h("div", { class: "chat" },
      input !== null && input !== undefined ? h("div", { class: "bubble role-user" },
        h("div", { class: "bubble-head" }, h("span", { class: "role", text: "input" })), h("div", { class: "bubble-text", text: asText(input) })) : null,
      output !== null && output !== undefined ? h("div", { class: "bubble role-assistant output" },
        h("div", { class: "bubble-head" }, h("span", { class: "role", text: "output" })), h("div", { class: "bubble-text", text: asText(output) })) : null));
}
