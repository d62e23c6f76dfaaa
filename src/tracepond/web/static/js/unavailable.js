// The state a page shows when this server does not have the endpoint it reads yet.
import { notice } from "./dom.js";

export function unavailable(what, endpoint) {
  const n = notice("warn", `${what} not available`,
    `This server does not provide ${endpoint} yet, which this page reads. Traces and trace pages work without it.`);
  n.classList.add("unavailable");
  return n;
}
