// Who is signed in, and the sign-out button, in the page header. Shown only when the server
// requires API keys; a request answered 401 (the session ended) goes to the sign-in page.
import { h } from "./dom.js";

export function toSignIn() {
  const next = location.pathname + location.search;
  location.assign(`/signin?next=${encodeURIComponent(next)}`);
}

export async function showSession() {
  let who;
  try {
    const response = await fetch("/api/session", { headers: { Accept: "application/json" } });
    if (response.status === 401) return toSignIn();
    if (!response.ok) return;
    who = await response.json();
  } catch {
    return;
  }
  if (!who.auth) return;
  const button = h("button", { type: "button", class: "signout", id: "signout", text: "Sign out" });
  button.addEventListener("click", async () => {
    await fetch("/api/session", { method: "DELETE" });
    location.assign("/signin");
  });
  const label = h("span", { class: "whoami muted", text: who.key_name });
  document.querySelector("header.top").append(label, button);
}
