// Bulletins: live per-channel previews in the composer. No build step, no dependency.

// Unticking the public audience unticks the channels that serve the public alone (the save
// refuses them without it, so without this script the same rule comes back as a message).
(function () {
  const publicAudience = document.getElementById("audience-public");
  if (!publicAudience) return;
  publicAudience.addEventListener("change", () => {
    if (publicAudience.checked) return;
    for (const box of document.querySelectorAll("input[name=channels][data-serves=public]")) {
      box.checked = false;
    }
  });
})();

(function () {
  const form = document.getElementById("composer");
  const preview = document.getElementById("preview");
  if (!form || !preview) return;
  const csrf = form.querySelector("input[name=csrf_token]").value;
  const labels = JSON.parse(form.dataset.channelLabels || "{}");
  let timer = null;

  function payload() {
    const data = new FormData(form);
    const variants = {};
    for (const [key, value] of data.entries()) {
      if (key.startsWith("variant_") && value.trim()) variants[key.slice(8)] = value;
    }
    return {
      crisis_id: Number(form.dataset.crisisId),
      title: data.get("title") || "",
      body: data.get("body") || "",
      audiences: data.getAll("audiences"),
      channels: data.getAll("channels"),
      variants: variants,
      references: data.getAll("references").map(Number),
      msg_type: data.get("msg_type") || null,
      confirm_receipt: data.get("confirm_receipt") === "1",
      x_thread: data.get("x_thread") === "1",
    };
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function update() {
    const response = await fetch("/api/v1/bulletins/preview", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(payload()),
    });
    if (!response.ok) return;
    const data = await response.json();
    preview.replaceChildren();
    if (data.completeness.length) {
      const box = element("div", "fr-alert fr-alert--warning fr-alert--sm fr-mb-2w");
      const list = element("ul");
      for (const p of data.completeness) list.append(element("li", "", p.message));
      box.append(element("p", "", "Éléments manquants :"), list);
      preview.append(box);
    } else {
      preview.append(element("p", "fr-badge fr-badge--success fr-mb-2w", "Les cinq éléments sont présents"));
    }
    for (const [channel, r] of Object.entries(data.renderings)) {
      const section = element("section", "fr-mb-2w");
      const size = r.parts.length ? `fil de ${r.parts.length} messages` : `${r.length} ${r.unit}`;
      const counter = r.problems.length ? "" : ` — ${size}${r.short_form ? " (titre et lien)" : ""}`;
      section.append(element("h3", "fr-h6 fr-mb-1w", (labels[channel] || channel) + counter));
      if (r.problems.length) {
        const list = element("ul", "fr-error-text");
        for (const p of r.problems) list.append(element("li", "", p.message));
        section.append(list);
      } else {
        if (r.subject) section.append(element("p", "fr-text--sm fr-mb-1w", "Objet : " + r.subject));
        r.parts.forEach((part, index) => {
          const reply = index ? ", en réponse au précédent" : "";
          const label = `Message ${index + 1}/${r.parts.length} — ${part.length} ${r.unit}${reply}`;
          section.append(element("p", "fr-text--sm fr-mb-1v", label));
          section.append(element("pre", "tocsin-preview tocsin-thread-part", part.text));
        });
        if (!r.parts.length) section.append(element("pre", "tocsin-preview", r.text));
      }
      preview.append(section);
    }
  }

  form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 300); });
  form.addEventListener("change", () => { clearTimeout(timer); timer = setTimeout(update, 100); });
  update();
})();
