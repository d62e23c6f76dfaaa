// The sessions page: every session, newest first, each linking to its conversation.
import { h, append, notice, setTitle } from "../dom.js";
import { getJSON, sessionHref } from "../api.js";
import * as fmt from "../format.js";
import { unavailable } from "../unavailable.js";

export async function render(root) {
  setTitle("Sessions");
  const page = h("div", { class: "page sessions-page" }, h("h1", { text: "Sessions" }),
    h("p", { class: "muted", text: "Traces grouped by session.id, most recently active first." }));
  root.append(page);
  let data;
  try {
    data = await getJSON("/api/sessions", { limit: 100 });
  } catch (error) {
    page.append(error.missingEndpoint ? unavailable("Sessions are", "GET /api/sessions") : notice("error", "Cannot load sessions", error.message));
    return;
  }
  const sessions = data.sessions || [];
  if (!sessions.length) {
    page.append(notice("info", "No sessions yet", "Spans carrying session.id (tracepond.context(session_id=…)) group traces into sessions."));
    return;
  }
  append(page, [h("table", { class: "grid sessions" },
    h("thead", {}, h("tr", {}, ["Session", "User", "Traces", "First", "Last", "Tokens", "Cost", "Errors"]
      .map((t, i) => h("th", { class: i >= 2 && i !== 3 && i !== 4 ? "num" : null, text: t })))),
    h("tbody", {}, sessions.map((s) => h("tr", { "data-session-id": s.session_id, class: s.error_count ? "has-error" : null },
      h("td", {}, h("a", { href: sessionHref(s.session_id), text: s.session_id })),
      h("td", { text: s.user_id || fmt.NONE }),
      h("td", { class: "num", text: fmt.count(s.trace_count) }),
      h("td", { class: "time", title: fmt.isoTime(s.first_seen_ns), text: fmt.time(s.first_seen_ns) }),
      h("td", { class: "time", title: fmt.isoTime(s.last_seen_ns), text: fmt.time(s.last_seen_ns) }),
      h("td", { class: "num", text: fmt.count(s.total_tokens) }),
      h("td", { class: "num", text: fmt.cost(s.cost) }),
      h("td", { class: "num" }, s.error_count
        ? h("span", { class: "badge error", text: String(s.error_count), title: "traces with an error" }) : "0"))))),
    data.next_cursor ? h("p", { class: "muted", text: "Showing the 100 most recently active sessions." }) : null]);
}
