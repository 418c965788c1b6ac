// Communes by name or INSEE code: suggestions from /api/v1/geo/communes for the name being
// typed after the last comma (or line, in a textarea); choosing one writes « Nom (code) ». The
// composer and the declaration form share it; a failed request is asked again (1 s, doubling
// to 8 s). No build step, no dependency.
(function () {
  for (const input of document.querySelectorAll("[data-commune-search]")) {
    const box = document.getElementById(input.id + "-suggestions");
    const status = document.getElementById(input.id + "-status");
    if (!box) continue;
    let timer = null;
    let asked = "";
    let retry = 0;

    function current() {
      const text = input.value;
      const cut = Math.max(text.lastIndexOf(","), text.lastIndexOf(";"), text.lastIndexOf("\n"));
      return { head: text.slice(0, cut + 1), typed: text.slice(cut + 1).trim() };
    }

    function choose(commune) {
      const head = current().head;
      input.value = (head ? head.trimEnd() + " " : "") + `${commune.name} (${commune.code}), `;
      box.replaceChildren();
      if (status) status.textContent = `${commune.name} ajoutée.`;
      input.focus();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    async function suggest() {
      const typed = current().typed;
      if (typed.length < 2 || /\(\w{5}\)$/.test(typed)) { box.replaceChildren(); asked = ""; return; }
      if (typed === asked) return;
      asked = typed;
      const url = "/api/v1/geo/communes?limit=8&q=" + encodeURIComponent(typed);
      let items;
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        if (!response.ok) throw new Error(String(response.status));
        items = (await response.json()).items;
      } catch (error) {
        // A busy or restarting server: ask again, the name typed is still there.
        if (asked !== typed) return;
        asked = "";
        if (status) status.textContent = "Suggestions momentanément indisponibles, nouvel essai…";
        retry = Math.min(retry ? retry * 2 : 1000, 8000);
        clearTimeout(timer);
        timer = setTimeout(suggest, retry);
        return;
      }
      retry = 0;
      if (asked !== typed) return;
      box.replaceChildren();
      for (const commune of items) {
        const tag = document.createElement("button");
        tag.type = "button";
        tag.className = "fr-tag";
        tag.textContent = `${commune.name} (${commune.code})`;
        tag.addEventListener("click", () => choose(commune));
        box.append(tag);
      }
      if (status) {
        status.textContent = items.length
          ? `${items.length} commune${items.length > 1 ? "s" : ""} proposée${items.length > 1 ? "s" : ""} : Tab pour les parcourir.`
          : "Aucune commune de ce nom ou de ce code.";
      }
    }

    input.addEventListener("input", () => { clearTimeout(timer); retry = 0; timer = setTimeout(suggest, 200); });
    input.addEventListener("keydown", (event) => {
      const first = box.querySelector("button");
      if (event.key === "Enter" && first && current().typed) { event.preventDefault(); first.click(); }
      if (event.key === "ArrowDown" && first) { event.preventDefault(); first.focus(); }
      if (event.key === "Escape") box.replaceChildren();
    });
    // Typed before this script ran (a slow page): the name is there, its suggestions too.
    if (document.activeElement === input) suggest();
  }
})();
