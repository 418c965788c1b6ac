// Live regions: an element with data-live-src is re-fetched when the server-sent event stream
// says something changed (a journal entry anywhere, on any instance); with data-load-now it is
// also fetched at once, with data-refresh-seconds on a timer (delivery outcomes are not journal
// entries, so the stream alone is not enough on the tracking page).
(function () {
  async function refresh(region) {
    region.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(region.dataset.liveSrc, { credentials: "same-origin" });
      if (response.ok) region.innerHTML = await response.text();
    } finally {
      region.removeAttribute("aria-busy");
    }
  }
  for (const region of document.querySelectorAll("[data-live-src][data-load-now]")) refresh(region);
  for (const region of document.querySelectorAll("[data-live-src][data-refresh-seconds]")) {
    const seconds = Math.max(2, Number(region.dataset.refreshSeconds) || 5);
    setInterval(() => { if (!document.hidden) refresh(region); }, seconds * 1000);
  }
  const regions = document.querySelectorAll("[data-live-src]");
  if (!regions.length || !window.EventSource) return;
  const source = new EventSource("/flux");
  source.addEventListener("change", () => { for (const region of regions) refresh(region); });
})();

// Countdowns: every [data-deadline] shows the time left (or past) to its deadline, each second.
(function () {
  const pad = (n) => String(n).padStart(2, "0");
  function render() {
    const now = Date.now();
    for (const el of document.querySelectorAll("[data-deadline]")) {
      const left = Math.round((Date.parse(el.dataset.deadline) - now) / 1000);
      const abs = Math.abs(left);
      const text = (left < 0 ? "+" : "") + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
      if (el.textContent.trim() !== text) el.textContent = text;
    }
  }
  render();
  setInterval(render, 1000);
})();

// Confirmations: a form with data-confirm asks before it is sent (no inline handler: the CSP
// allows no script in attributes).
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
