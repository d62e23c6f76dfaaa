// Routes on location.pathname to one page module; every page renders into <main id="app">.
import { h, notice, clear } from "./dom.js";
import { isHexId, fetchCompactSkeleton } from "./api.js";
import { showSession } from "./session.js";

const ROUTES = [
  [/^\/(?:traces\/?)?$/, "traces", () => import("./pages/traces.js"), []],
  [/^\/traces\/([^/]+)$/, "traces", () => import("./pages/trace.js"), ["traceId"],
    // Fetched in parallel rather than one import level after another.
    ["pages/trace.js", "trace/model.js", "trace/timeline.js", "trace/detail.js", "values.js", "trace/chat.js", "trace/documents.js", "trace/words.js"],
    // The trace's skeleton is asked for while those load: it is the longest wait of the page.
    ({ traceId }) => ({ skeleton: isHexId(traceId, 32) ? handled(fetchCompactSkeleton(traceId.toLowerCase())) : null })],
  [/^\/sessions\/?$/, "sessions", () => import("./pages/sessions.js"), []],
  [/^\/sessions\/([^/]+)$/, "sessions", () => import("./pages/session.js"), ["sessionId"]],
  [/^\/dashboard\/?$/, "dashboard", () => import("./pages/dashboard.js"), []],
];

async function start() {
  const root = document.getElementById("app");
  const path = location.pathname;
  for (const [pattern, nav, load, names, preload = [], prefetch = null] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1])]));
    if (prefetch) Object.assign(params, prefetch(params));
    for (const module of preload) document.head.append(h("link", { rel: "modulepreload", href: `/static/js/${module}` }));
    for (const link of document.querySelectorAll("[data-nav]")) {
      link.classList.toggle("active", link.dataset.nav === nav);
    }
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

// A promise the page awaits later: a rejection before then is not an unhandled one.
function handled(promise) {
  promise.catch(() => {});
  return promise;
}

showSession();
start();
