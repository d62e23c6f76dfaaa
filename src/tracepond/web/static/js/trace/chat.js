// A conversation as chat bubbles by role; tool calls and their results as boxes.
import { h } from "../dom.js";
import { pretty, asText } from "../values.js";

export function conversation(messages, { output = false } = {}) {
  return h("div", { class: "chat" }, (messages || []).map((m) => bubble(m, output)));
}

function bubble(message, output) {
  const role = String(message.role || "unknown");
  const known = ["user", "assistant", "system", "tool"].includes(role) ? role : "other";
  return h("div", { class: `bubble role-${known}${output ? " output" : ""}`, "data-role": role },
    h("div", { class: "bubble-head" },
      h("span", { class: "role", text: role }),
      message.name ? h("span", { class: "muted", text: message.name }) : null,
      message.finish_reason ? h("span", { class: "chip", text: `finish: ${message.finish_reason}` }) : null),
    (message.parts || []).map(part));
}

function part(p) {
  switch (p.type) {
    case "text":
      if (p.redacted || p.content === null) return h("p", { class: "withheld", text: "[redacted]" });
      return h("div", { class: "bubble-text", text: String(p.content) });
    case "reasoning":
      return h("details", { class: "reasoning" }, h("summary", { text: "reasoning" }),
        h("div", { class: "bubble-text", text: String(p.content ?? "") }));
    case "tool_call":
      return h("div", { class: "tool-call" },
        h("div", { class: "tool-head" }, h("span", { class: "arrow", text: "→ call" }),
          h("strong", { text: p.name || "(unnamed tool)" }), p.id ? h("code", { text: p.id }) : null),
        pretty(p.arguments));
    case "tool_call_response":
      return h("div", { class: "tool-result" },
        h("div", { class: "tool-head" }, h("span", { class: "arrow", text: "← result" }), p.id ? h("code", { text: p.id }) : null),
        pretty(p.response));
    case "uri":
      // Never loaded: shown as text.
      return h("div", { class: "bubble-text muted", text: `[${p.modality || "uri"}] ${asText(p.uri)}` });
    default:
      return h("div", {}, h("span", { class: "chip", text: String(p.type || "part") }), pretty(p));
  }
}
