// Live regions: an element with data-live-src is re-fetched when the server-sent event stream
// says something changed (a journal entry anywhere, on any instance).
(function () {
  const regions = document.querySelectorAll("[data-live-src]");
  if (!regions.length || !window.EventSource) return;
  const source = new EventSource("/flux");
  source.addEventListener("change", async () => {
    for (const region of regions) {
      region.setAttribute("aria-busy", "true");
      try {
        const response = await fetch(region.dataset.liveSrc, { credentials: "same-origin" });
        if (response.ok) region.innerHTML = await response.text();
      } finally {
        region.removeAttribute("aria-busy");
      }
    }
  });
})();
