// Polling that pauses while the tab is hidden and shows its state in the header.
export function startLive(tick, intervalMs) {
  const badge = document.getElementById("live");
  let timer = 0;
  let running = false;
  const show = (text, cls) => {
    if (!badge) return;
    badge.textContent = text;
    badge.className = `live ${cls}`;
  };
  async function run() {
    if (running || document.hidden) return;
    running = true;
    try {
      await tick();
      show("● live", "on");
    } catch (error) {
      show("● disconnected", "off");
      badge && (badge.title = String(error && error.message));
    } finally {
      running = false;
    }
  }
  show("● live", "on");
  timer = setInterval(run, intervalMs);
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) show("❚❚ paused", "paused");
    else run();
  });
  return { stop: () => clearInterval(timer) };
}
