// Retrieved documents as cards, in order: rank, score, id, metadata, expandable content.
import { h } from "../dom.js";
import { scalarText, asText } from "../values.js";

export function documentCards(documents) {
  if (!documents || !documents.length) return h("p", { class: "muted", text: "No documents." });
  return h("ol", { class: "docs" }, documents.map((doc, i) => card(doc || {}, i)));
}

function card(doc, i) {
  const content = doc.content === null || doc.content === undefined ? "" : asText(doc.content);
  const body = h("div", { class: "doc-content clamped", text: content || "(no content)" });
  const long = content.length > 280 || content.split("\n").length > 4;
  const toggle = long
    ? h("button", { type: "button", class: "link", text: "Show more", on: { click: () => {
      const clamped = body.classList.toggle("clamped");
      toggle.textContent = clamped ? "Show more" : "Show less";
    } } })
    : null;
  const meta = Object.entries(doc.metadata || {});
  return h("li", { class: "doc" },
    h("div", { class: "doc-head" },
      h("span", { class: "rank", text: `#${i + 1}` }),
      doc.score !== null && doc.score !== undefined
        ? h("span", { class: "score", title: "score", text: typeof doc.score === "number" ? doc.score.toFixed(4) : scalarText(doc.score) })
        : null,
      doc.id !== null && doc.id !== undefined ? h("code", { class: "doc-id", text: scalarText(doc.id) }) : null),
    meta.length ? h("div", { class: "doc-meta" }, meta.map(([k, v]) =>
      h("span", { class: "meta" }, h("span", { class: "muted", text: `${k}: ` }), scalarText(v)))) : null,
    body, toggle);
}
