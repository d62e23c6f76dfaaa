// The query API, and what this server supports (read once from its OpenAPI schema), so pages
// show "not available" for endpoints a server does not have yet instead of breaking.
import { toSignIn } from "./session.js";
import { currentProject, withProject } from "./project.js";

export class ApiError extends Error {
  constructor(status, code, message, detail = {}) {
    super(message);
    this.status = status;
    this.code = code;
    // Query syntax errors: 0-based position in the query and what would fit there.
    this.position = typeof detail.position === "number" ? detail.position : null;
    this.expected = typeof detail.expected === "string" ? detail.expected : null;
  }
  // 404 from the router itself: the endpoint does not exist on this server.
  get missingEndpoint() {
    return this.status === 404 && this.message === "Not Found";
  }
}

// Every call reads the page's project (project.js): the one place it is added.
export async function getJSON(path, params, { signal } = {}) {
  const search = params ? query(params) : "";
  const url = withProject(search ? `${path}?${search}` : path);
  let response;
  try {
    response = await fetch(url, { signal, headers: { Accept: "application/json" } });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network", `cannot reach the server (${error.message})`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.status === 401) toSignIn(); // the session ended or the server needs a key now
  if (!response.ok) {
    const e = body && body.error;
    const message = e ? e.message : response.statusText;
    throw new ApiError(response.status, e ? e.code : "error",
      response.status === 403 ? notAllowedHere(message) : message, e || {});
  }
  return body;
}

// A 403: signed in with a key that may not read this project (or do this).
function notAllowedHere(message) {
  return `Your API key may not read project “${currentProject()}” (${message}). `
    + "Choose a project you can read in the header, or sign in with a key for this one.";
}

export function query(params) {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== null && v !== undefined && v !== "") out.append(key, String(v));
    }
  }
  return out.toString();
}

let capabilities = null;

// {paths: Set of path templates, params(path): Set of query parameter names}
export function getCapabilities() {
  capabilities ??= fetch(withProject("/openapi.json"))
    .then((r) => (r.ok ? r.json() : { paths: {} }))
    .catch(() => ({ paths: {} }))
    .then((schema) => {
      const paths = schema.paths || {};
      return {
        has: (path) => Boolean(paths[path] && paths[path].get),
        params: (path) =>
          new Set(((paths[path] && paths[path].get && paths[path].get.parameters) || [])
            .filter((p) => p.in === "query").map((p) => p.name)),
      };
    });
  return capabilities;
}

export const isHexId = (text, length) => typeof text === "string" && text.length === length && /^[0-9a-f]+$/i.test(text);
export const traceHref = (traceId, spanId) =>
  withProject(`/traces/${encodeURIComponent(traceId)}${spanId ? `?span=${encodeURIComponent(spanId)}` : ""}`);
export const sessionHref = (sessionId) => withProject(`/sessions/${encodeURIComponent(sessionId)}`);

// A trace's skeleton as columns (GET /api/traces/{id}/skeleton/compact): what the trace page
// draws from. main.js asks for it before the page's modules have loaded.
export const SKELETON_PAGE = 100000; // the API's largest page
export const compactSkeletonPath = (traceId) => `/api/traces/${encodeURIComponent(traceId)}/skeleton/compact`;
export function fetchCompactSkeleton(traceId, params = { limit: SKELETON_PAGE }) {
  return getJSON(compactSkeletonPath(traceId), params);
}
