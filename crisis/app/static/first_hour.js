// The crisis page's next step: its clock's countdown stays true while the page is open.
// The server renders the minutes left (by its own clock); this recounts them every 15 s
// from the time the page has been open, never from the browser's idea of the deadline.
(() => {
  const opened = Date.now();
  const nodes = document.querySelectorAll("[data-countdown-minutes]");
  const tick = () => {
    const elapsed = Math.floor((Date.now() - opened) / 60000);
    nodes.forEach((node) => {
      const minutes = Number(node.dataset.countdownMinutes) - elapsed;
      const label = node.querySelector(".tocsin-countdown");
      if (!label) return;
      label.textContent = minutes >= 0 ? `reste ${minutes} min` : `dépassée de ${-minutes} min`;
    });
  };
  if (nodes.length) setInterval(tick, 15000);
})();
