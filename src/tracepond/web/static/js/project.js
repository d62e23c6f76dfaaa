// The project the page reads: `?project=NAME` in the page's URL (absent: `default`, so URLs from
// before projects keep working). Every API call (api.js) and every link (dom.js h()) carries it,
// so no call or link can forget it; only `default` is left out, to keep those URLs as they were.
export const DEFAULT_PROJECT = "default";

export function currentProject() {
  return new URLSearchParams(location.search).get("project") || DEFAULT_PROJECT;
}

// `href` (a path of this site) with the current project added, unless it names one already.
export function withProject(href, project = currentProject()) {
  // Static files are the same in every project (a query there would load a module twice).
  if (project === DEFAULT_PROJECT || typeof href !== "string" || !href.startsWith("/") || href.startsWith("/static/")) return href;
  const hashAt = href.indexOf("#");
  const [path, hash] = hashAt < 0 ? [href, ""] : [href.slice(0, hashAt), href.slice(hashAt)];
  const search = path.includes("?") ? path.slice(path.indexOf("?")) : "";
  if (new URLSearchParams(search).has("project")) return href;
  // Appended, the rest of the URL untouched (re-serializing it would re-encode the filters).
  return `${path}${search.length > 1 ? "&" : search ? "" : "?"}project=${encodeURIComponent(project)}${hash}`;
}

// The URL of a page kind (its first page) in `project`, without the current page's filters.
export function projectHome(path, project) {
  return project === DEFAULT_PROJECT ? path : `${path}?project=${encodeURIComponent(project)}`;
}
