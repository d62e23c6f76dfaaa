// The API reference (/docs): reads /openapi.json from this server and lists every operation
// with its parameters and responses. Nothing is loaded from elsewhere (the CSP forbids it).
import { h } from "./dom.js";

const METHODS = ["get", "post", "put", "patch", "delete", "head", "options"];

async function main() {
  const root = document.getElementById("docs");
  let spec;
  try {
    const response = await fetch("/openapi.json", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    spec = await response.json();
  } catch (error) {
    root.replaceChildren(h("p", { class: "pad", text: `Could not load /openapi.json: ${error}` }));
    return;
  }
  const info = spec.info || {};
  root.replaceChildren(
    h("h1", { text: `${info.title || "API"} ${info.version || ""}`.trim() }),
    info.description ? h("p", { text: info.description }) : null,
    h("p", {}, "The machine-readable schema: ", h("a", { href: "/openapi.json", text: "/openapi.json" })),
    ...byTag(spec).map(([tag, operations]) => section(tag, operations, spec)),
  );
}

function byTag(spec) {
  const groups = new Map();
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const tag = (operation.tags && operation.tags[0]) || "other";
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push({ path, method, operation, shared: item.parameters || [] });
    }
  }
  return [...groups.entries()];
}

function section(tag, operations, spec) {
  return h("section", {}, h("h2", { text: tag }), operations.map((op) => operationView(op, spec)));
}

function operationView({ path, method, operation, shared }, spec) {
  const parameters = [...shared, ...(operation.parameters || [])].map((p) => resolve(p, spec));
  return h(
    "details",
    { class: "operation", "data-operation": `${method.toUpperCase()} ${path}` },
    h(
      "summary",
      {},
      h("span", { class: "method", text: method }),
      h("span", { class: "path", text: path }),
      h("span", { class: "summary", text: operation.summary || "" }),
    ),
    h(
      "div",
      { class: "body" },
      operation.description ? h("p", { text: operation.description }) : null,
      parameters.length ? parameterTable(parameters, spec) : h("p", { class: "muted", text: "No parameters." }),
      responseTable(operation.responses || {}),
    ),
  );
}

function parameterTable(parameters, spec) {
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, ["name", "in", "type", "required", "description"].map((t) => h("th", { text: t })))),
    h(
      "tbody",
      {},
      parameters.map((p) =>
        h(
          "tr",
          {},
          h("td", {}, h("code", { text: p.name })),
          h("td", { text: p.in }),
          h("td", { text: typeName(resolve(p.schema || {}, spec)) }),
          h("td", { text: p.required ? "yes" : "" }),
          h("td", { text: p.description || "" }),
        ),
      ),
    ),
  );
}

function responseTable(responses) {
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, h("th", { text: "status" }), h("th", { text: "meaning" }))),
    h(
      "tbody",
      {},
      Object.entries(responses).map(([status, response]) =>
        h("tr", {}, h("td", { text: status }), h("td", { text: response.description || "" })),
      ),
    ),
  );
}

function typeName(schema) {
  if (schema.type) return schema.enum ? `${schema.type} (${schema.enum.join(", ")})` : schema.type;
  const options = schema.anyOf || schema.oneOf;
  if (options) return options.map((s) => s.type || "object").join(" | ");
  return "";
}

// A "$ref": "#/components/..." inside the same document.
function resolve(value, spec) {
  if (!value || typeof value.$ref !== "string" || !value.$ref.startsWith("#/")) return value;
  return value.$ref
    .slice(2)
    .split("/")
    .reduce((node, key) => (node ? node[key] : undefined), spec) || {};
}

main();
