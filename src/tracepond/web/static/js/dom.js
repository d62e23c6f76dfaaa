// DOM building with text only: data from spans never becomes markup.
import { withProject } from "./project.js";
// h("div", {class: "x", text: "y", on: {click}}, child, "text", [more]) — children that are
// strings become text nodes; null/undefined/false are skipped; arrays are flattened.

const SVG_NS = "http://www.w3.org/2000/svg";

export function h(tag, props, ...children) {
  return fill(document.createElement(tag), props, children);
}

export function svg(tag, props, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), props, children);
}

function fill(el, props, children) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") el.textContent = String(value);
    else if (key === "class") el.setAttribute("class", value);
    else if (key === "on") for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    // Links between pages stay in the page's project.
    else if (key === "href") el.setAttribute("href", withProject(internalHref(value)));
    else if (key.startsWith("on")) throw new Error(`use {on: {...}} for ${key}`);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Only same-origin paths are ever used as links; anything else (javascript:, //host, data:)
// becomes an inert "#".
export function internalHref(value) {
  const text = String(value);
  return /^\/(?![/\\])[^\s]*$/.test(text) ? text : "#";
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { class: "offscreen", readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

export function copyButton(text, label = "Copy") {
  const button = h("button", { class: "copy", type: "button", title: "Copy to clipboard", text: label });
  button.addEventListener("click", async (event) => {
    event.stopPropagation();
    const ok = await copyText(typeof text === "function" ? text() : text);
    button.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => (button.textContent = label), 1200);
  });
  return button;
}

// A message box for empty, error and "not available" states.
export function notice(kind, title, detail) {
  return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" },
    h("strong", { text: title }), detail ? h("p", { text: detail }) : null);
}

export function setTitle(...parts) {
  document.title = [...parts.filter(Boolean), "tracepond"].join(" · ");
}
