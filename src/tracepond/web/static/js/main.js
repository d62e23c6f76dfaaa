// Routes on location.pathname to one page module; every page renders into <main id="app">.
import { h, notice, clear } from "./dom.js";

const ROUTES = [
  [/^\/(?:traces\/?)?$/, "traces", () => import("./pages/traces.js"), []],
  [/^\/traces\/([^/]+)$/, "traces", () => import("./pages/trace.js"), ["traceId"],
    // Fetched in parallel rather than one import level after another.
    ["pages/trace.js", "trace/model.js", "trace/timeline.js", "trace/detail.js", "values.js", "trace/chat.js", "trace/documents.js"]],
  [/^\/sessions\/?$/, "sessions", () => import("./pages/sessions.js"), []],
  [/^\/sessions\/([^/]+)$/, "sessions", () => import("./pages/session.js"), ["sessionId"]],
  [/^\/dashboard\/?$/, "dashboard", () => import("./pages/dashboard.js"), []],
];

async function start() {
  const root = document.getElementById("app");
  const path = location.pathname;
  for (const [pattern, nav, load, names, preload = []] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    for (const module of preload) document.head.append(h("link", { rel: "modulepreload", href: `/static/js/${module}` }));
    for (const link of document.querySelectorAll("[data-nav]")) {
      link.classList.toggle("active", link.dataset.nav === nav);
    }
    const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1])]));
    try {
      const page = await load();
      await page.render(clear(root), params);
    } catch (error) {
      console.error(error);
      clear(root).append(notice("error", "This page failed to render", String(error && error.message)));
    }
    return;
  }
  clear(root).append(notice("info", "No such page", path), h("p", { class: "pad" }, h("a", { href: "/", text: "All traces" })));
}

start();
