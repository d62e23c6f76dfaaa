// The project switcher in the header: a select of the projects this reader may read
// (GET /api/projects, which lists only its own for a key bound to one project). Switching opens
// the same kind of page (traces, sessions, dashboard) in the other project, without filters.
import { h } from "./dom.js";
import { getJSON } from "./api.js";
import { DEFAULT_PROJECT, currentProject, projectHome } from "./project.js";
import { count } from "./format.js";

const HOME = { traces: "/", sessions: "/sessions", dashboard: "/dashboard" };

export async function showProjectSwitcher(nav) {
  let projects;
  try {
    projects = (await getJSON("/api/projects")).projects || [];
  } catch {
    return; // a server without projects, or none readable: nothing to switch between
  }
  const current = currentProject();
  const names = projects.map((p) => p.name);
  // One project, the default, shown as before projects existed: nothing to choose.
  if (current === DEFAULT_PROJECT && names.length <= 1 && (names[0] ?? DEFAULT_PROJECT) === DEFAULT_PROJECT) return;
  const select = h("select", { id: "project", "aria-label": "Project", disabled: names.length <= 1 && names.includes(current) },
    projects.map((p) => h("option", { value: p.name, text: p.name, title: `${count(p.trace_count)} traces` })),
    // The URL's project even when it is not one of them (unknown, or not this key's): the page
    // says why it cannot be read.
    names.includes(current) ? null : h("option", { value: current, text: current }));
  select.value = current;
  select.addEventListener("change", () => location.assign(projectHome(HOME[nav] || "/", select.value)));
  const label = h("label", { class: "project-switch" }, h("span", { class: "muted", text: "Project" }), select);
  document.querySelector("header.top nav").after(label);
}
