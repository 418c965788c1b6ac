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

// The preview is the server's: the form as the save reads it, judged by the same checks as
// the save and the submission. It is replaced only when it changed, and the status line
// announces the number of problems only when that number changes.
(function () {
  const form = document.getElementById("composer");
  const preview = document.getElementById("preview");
  if (!form || !preview || !form.dataset.previewUrl) return;
  const status = document.getElementById("preview-status");
  const communesText = document.getElementById("communes_text");
  let timer = null;
  let shown = "";
  let told = "";

  function followCommunes(verdict) {
    // The templated « Communes concernées » follows the communes chosen, once all are known.
    if (!communesText || !verdict || verdict.dataset.communesOk !== "1") return false;
    const before = communesText.value;
    const after = verdict.dataset.communesText;
    if (!before || !after || before === after) return false;
    let changed = false;
    for (const area of form.querySelectorAll("textarea")) {
      if (area.value.includes(before)) {
        area.value = area.value.split(before).join(after);
        changed = true;
      }
    }
    communesText.value = after;
    return changed;
  }

  async function update() {
    const response = await fetch(form.dataset.previewUrl, {
      method: "POST",
      credentials: "same-origin",
      body: new FormData(form),
    });
    if (!response.ok) return;
    const html = await response.text();
    if (html === shown) return;
    shown = html;
    const fresh = document.createElement("template");
    fresh.innerHTML = html;
    preview.replaceChildren(fresh.content);
    if (followCommunes(document.getElementById("preview-verdict"))) schedule(0);
    const count = preview.querySelectorAll(".tocsin-problems li").length;
    const sentence = count ? `${count} problème${count > 1 ? "s" : ""} dans le communiqué.` : "Aucun problème.";
    if (status && sentence !== told) status.textContent = told = sentence;
  }

  function schedule(delay) { clearTimeout(timer); timer = setTimeout(update, delay); }

  form.addEventListener("input", () => schedule(300));
  form.addEventListener("change", () => schedule(100));
  update();
})();
