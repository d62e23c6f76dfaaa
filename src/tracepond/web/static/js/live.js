// Polling that pauses while the tab is hidden, or while the page says there is nothing to
// refresh (a query error), and shows its real state in the header.
export function startLive(tick, intervalMs) {
  const badge = document.getElementById("live");
  let timer = 0;
  let running = false;
  let pausedFor = null; // why the page paused polling, or null
  const show = (text, cls, title = "") => {
    if (!badge) return;
    badge.textContent = text;
    badge.className = `live ${cls}`;
    badge.title = title;
    badge.dataset.state = cls;
  };
  const showPaused = () => show("❚❚ paused", "paused", pausedFor ? `Polling paused ${pausedFor}` : "Polling paused while the tab is hidden");
  async function run() {
    if (running || document.hidden || pausedFor) return;
    running = true;
    try {
      await tick();
      if (!pausedFor) show("● live", "on", `Refreshing every ${intervalMs / 1000} s`);
    } catch (error) {
      show("● disconnected", "off", String(error && error.message));
    } finally {
      running = false;
    }
  }
  show("● live", "on", `Refreshing every ${intervalMs / 1000} s`);
  timer = setInterval(run, intervalMs);
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) showPaused();
    else if (pausedFor) showPaused();
    else run();
  });
  return {
    stop: () => clearInterval(timer),
    // The page has nothing to refresh until the reader acts (`reason` says what to do).
    pause(reason) {
      pausedFor = reason;
      showPaused();
    },
    resume() {
      if (pausedFor === null) return;
      pausedFor = null;
      show("● live", "on", `Refreshing every ${intervalMs / 1000} s`);
    },
  };
}
