// Routes on location.pathname to one page module; every page renders into <main id="app">.
import { h, notice, clear } from "./dom.js";
import { isHexId, fetchCompactSkeleton } from "./api.js";
import { loadSession, showSession } from "./session.js";
import { showProjectSwitcher } from "./switcher.js";
import { withProject } from "./project.js";

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

function routeOf(path) {
  for (const route of ROUTES) {
    const match = route[0].exec(path);
    if (match) return [route, match];
  }
  return [null, null];
}

async function start() {
  // A URL without a project, opened with a key bound to one: that project (the page would
  // only be refused in `default`). Only then is the session waited for before any API call.
  const session = loadSession();
  if (!new URLSearchParams(location.search).has("project")) {
    const who = await session;
    if (who && who.auth && who.project) {
      history.replaceState(history.state, "", withProject(location.pathname + location.search + location.hash, who.project));
    }
  }
  session.then(showSession);
  for (const link of document.querySelectorAll("header.top a")) link.setAttribute("href", withProject(link.getAttribute("href")));
  const [route, match] = routeOf(location.pathname);
  showProjectSwitcher(route ? route[1] : null);
  await render(route, match);
}

async function render(route, match) {
  const root = document.getElementById("app");
  const path = location.pathname;
  if (route) {
    const [, nav, load, names, preload = [], prefetch = null] = route;
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

start();
