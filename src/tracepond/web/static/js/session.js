// Who is signed in, and the sign-out button, in the page header. Shown only when the server
// requires API keys; a request answered 401 (the session ended) goes to the sign-in page.
import { h } from "./dom.js";

export function toSignIn() {
  const next = location.pathname + location.search;
  location.assign(`/signin?next=${encodeURIComponent(next)}`);
}

// Who is signed in: {auth: false} when the server needs no key, else the key's id, name, scope
// and project (null: every project); null when unknown (an older server, a network error).
export async function loadSession() {
  try {
    const response = await fetch("/api/session", { headers: { Accept: "application/json" } });
    if (response.status === 401) {
      toSignIn();
      return null;
    }
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

export function showSession(who) {
  if (!who || !who.auth) return;
  const button = h("button", { type: "button", class: "signout", id: "signout", text: "Sign out" });
  button.addEventListener("click", async () => {
    await fetch("/api/session", { method: "DELETE" });
    location.assign("/signin");
  });
  const label = h("span", { class: "whoami muted", text: who.key_name,
    title: who.project ? `key of project ${who.project} (${who.scope})` : `key of every project (${who.scope})` });
  document.querySelector("header.top").append(label, button);
}
