// Live regions. One event stream per page (/flux, with the page's topic from data-live-topic,
// e.g. "evenement=3") brings the topic's figures when they move, at most once a second; a region
// ([data-live-src]) is re-fetched only when a group it shows (data-live-on, e.g. "clocks journal")
// changed, and the new HTML is merged into the old in place: text that did not change is left
// alone, rows are matched by id, and a form field, the focused element and what was typed are
// never replaced. Screen readers hear only what the server announces (a step crossed, an alert)
// through one polite status element; the regions themselves are not live regions.
(function () {
  const regions = Array.from(document.querySelectorAll("[data-live-src]"));
  if (!regions.length) return;
  const FIELDS = new Set(["INPUT", "TEXTAREA", "SELECT"]);
  const SCROLL_MARKS = new Set(["tabindex", "role", "aria-label", "data-scroll-marked"]);

  function holdsWork(node) {
    if (node.nodeType !== Node.ELEMENT_NODE) return false;
    if (node.contains(document.activeElement) && document.activeElement !== document.body) return true;
    return Array.from(node.querySelectorAll("input, textarea")).concat(FIELDS.has(node.nodeName) ? [node] : [])
      .some((field) => field.value !== field.defaultValue);
  }
  function compatible(old, fresh) {
    return old.nodeType === fresh.nodeType && old.nodeName === fresh.nodeName &&
      (old.nodeType !== Node.ELEMENT_NODE || old.id === fresh.id);
  }
  function morph(old, fresh) {
    if (old.nodeType !== Node.ELEMENT_NODE) {
      const blank = !old.nodeValue.trim() && !fresh.nodeValue.trim();  // layout whitespace
      if (!blank && old.nodeValue !== fresh.nodeValue) old.nodeValue = fresh.nodeValue;
      return;
    }
    const field = FIELDS.has(old.nodeName);
    for (const attr of Array.from(fresh.attributes)) {
      if (field && attr.name === "value") continue;
      if (old.getAttribute(attr.name) !== attr.value) old.setAttribute(attr.name, attr.value);
    }
    for (const attr of Array.from(old.attributes)) {
      if (fresh.hasAttribute(attr.name) || (field && attr.name === "value")) continue;
      if (attr.name.startsWith("data-fr-") || (attr.name === "class" && !attr.value.trim())) continue;  // DSFR's own marks
      if (old.hasAttribute("data-scroll-marked") && SCROLL_MARKS.has(attr.name)) continue;  // tables.js'
      old.removeAttribute(attr.name);
    }
    // A countdown's text is the page's own (it ticks each second): left alone while its deadline stands.
    const ticking = old.dataset.deadline && old.dataset.deadline === fresh.dataset.deadline;
    if (!field && !ticking) morphChildren(old, fresh);
  }
  function morphChildren(parent, freshParent) {
    const byId = new Map();
    for (const node of parent.childNodes) if (node.id) byId.set(node.id, node);
    let index = 0;
    for (const fresh of Array.from(freshParent.childNodes)) {
      let current = parent.childNodes[index] || null;
      const keyed = fresh.id ? byId.get(fresh.id) : null;
      if (keyed && keyed !== current) { parent.insertBefore(keyed, current); current = keyed; }
      if (current && compatible(current, fresh)) morph(current, fresh);
      else parent.insertBefore(fresh, current);
      index += 1;
    }
    while (parent.childNodes.length > index) {
      const extra = parent.childNodes[index];
      if (holdsWork(extra)) index += 1; else extra.remove();
    }
  }
  // One fetch per region at a time: a change heard meanwhile fetches once more afterwards, so
  // a slow older answer can never land after, and undo, a newer one. A fetch that fails (the
  // network, a server restarting) is tried again, 2 s later then doubling up to 30 s: a page
  // left open must not keep showing what was true before the failure.
  const inFlight = new Map();
  let announced = 0;
  const RETRY_FIRST_MS = 2000, RETRY_MAX_MS = 30000;
  function refresh(region, quiet) {
    const running = inFlight.get(region);
    if (running) {
      running.again = true;
      if (!quiet) region.setAttribute("aria-busy", "true");
      return running.done;
    }
    const state = { again: false, done: null };
    state.done = (async () => {
      if (!quiet) region.setAttribute("aria-busy", "true");
      let wait = RETRY_FIRST_MS;
      try {
        do {
          state.again = false;
          let response = null;
          try {
            // Not older than the journal entry the stream's last message named (else as of
            // the journal's last entry): what the stream just announced is there.
            const headers = { "X-Tocsin-Live": "1" };
            if (announced > 0) headers["X-Tocsin-Announced"] = String(announced);
            response = await fetch(region.dataset.liveSrc, { credentials: "same-origin", headers });
          } catch (error) { /* the network: tried again below */ }
          if (!response || response.status >= 500 || response.status === 429) {
            await new Promise((resolve) => setTimeout(resolve, wait));
            wait = Math.min(2 * wait, RETRY_MAX_MS);
            state.again = true;
            continue;
          }
          if (!response.ok) break;  // signed out or gone: reloading the page will say so
          const template = document.createElement("template");
          template.innerHTML = await response.text();
          morphChildren(region, template.content);
        } while (state.again);
      } finally {
        inFlight.delete(region);
        region.removeAttribute("aria-busy");
      }
    })();
    inFlight.set(region, state);
    return state.done;
  }
  const status = document.createElement("p");
  status.className = "fr-sr-only";
  status.id = "tocsin-annonces";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  (document.querySelector("main") || document.body).appendChild(status);

  window.tocsinLive = { refresh: () => Promise.all(regions.map((region) => refresh(region))) };
  for (const region of regions) if (region.hasAttribute("data-load-now")) refresh(region);
  if (!window.EventSource) return;
  const holder = document.querySelector("[data-live-topic]");
  const topic = holder ? holder.dataset.liveTopic : "";
  const source = new EventSource("/flux" + (topic ? "?" + topic : ""));
  // The first message of a stream (at load, and again after a reconnection) may already hold
  // changes the page was rendered without: every region is fetched once then, quietly (no
  // announcement, not shown busy). Later messages fetch only the regions whose groups changed.
  // <body data-live="on"> once the stream's first figures arrived, "off" while it reconnects.
  let first = true;
  source.addEventListener("error", () => { first = true; document.body.dataset.live = "off"; });
  source.addEventListener("change", (event) => {
    const message = JSON.parse(event.data);
    announced = Math.max(announced, message.head || 0);
    const all = first;
    first = false;
    document.body.dataset.live = "on";
    if (!all && message.announce.length) status.textContent = message.announce.join(" ");
    for (const region of regions) {
      const groups = (region.dataset.liveOn || "").split(" ").filter(Boolean);
      if (all || !groups.length || groups.some((g) => message.changed.includes(g))) refresh(region, all);
    }
  });
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
