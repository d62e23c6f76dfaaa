// The sign-in page: a read key is posted once to /api/session, which answers with an HttpOnly
// session cookie; then back to the page the user first asked for (same origin only).
const form = document.getElementById("signin-form");
const error = document.getElementById("signin-error");

function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "/";
  // Only a path of this site: never an absolute or protocol-relative URL.
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  const key = document.getElementById("key").value.trim();
  let response;
  try {
    response = await fetch("/api/session", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ key }),
    });
  } catch (e) {
    error.textContent = `Cannot reach the server (${e.message}).`;
    return;
  }
  if (response.ok) {
    location.assign(nextPage());
    return;
  }
  let message = response.statusText;
  try {
    message = (await response.json()).error.message;
  } catch {
    // keep the status text
  }
  error.textContent = message;
});
