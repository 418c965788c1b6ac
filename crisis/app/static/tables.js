// Tables wider than their container scroll sideways (on a phone, mostly): such a container
// becomes focusable and named, so that the keyboard scrolls it too (RGAA 12.13); it stops
// being a tab stop once it fits again. Tables arriving in live regions are seen as well.
(function () {
  const MARK = "scrollMarked";
  function label(box) {
    const caption = box.querySelector("caption");
    const name = caption ? caption.textContent.trim().replace(/\s+/g, " ") : "Tableau";
    return name + " (tableau défilant)";
  }
  function mark() {
    for (const box of document.querySelectorAll(".fr-table__container")) {
      const scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", label(box));
        box.dataset[MARK] = "1";
      } else if (!scrolls && box.dataset[MARK]) {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
        delete box.dataset[MARK];
      }
    }
  }
  let pending = false;
  function soon() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; mark(); });
  }
  mark();
  window.addEventListener("resize", soon);
  new MutationObserver(soon).observe(document.body, { childList: true, subtree: true });
})();
