// The CIP operator console: validated facts new since the last look, FAQ search as you type,
// and the call form — F2/F3/F4 stamp received/answered/ended, Ctrl+Enter saves, and the draft
// stays in localStorage until the server says the call was saved (?appel=N).
(function () {
  const PARIS = new Intl.DateTimeFormat("sv-SE", {
    timeZone: "Europe/Paris", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[-'’.]/g, " ").split(/\s+/).filter(Boolean);
  }

  // Validated facts: mark those published since this browser's last look.
  const facts = document.getElementById("cip-facts");
  if (facts) {
    const key = "tocsin-cip-seen-" + facts.dataset.crisis;
    const seen = localStorage.getItem(key) || "";
    let newest = seen;
    let fresh = 0;
    for (const item of facts.querySelectorAll("[data-published]")) {
      const at = item.dataset.published;
      if (seen && at > seen) { item.querySelector(".tocsin-new-badge").hidden = false; fresh += 1; }
      if (at > newest) newest = at;
    }
    if (newest) localStorage.setItem(key, newest);
    const status = document.getElementById("cip-facts-status");
    if (status && fresh) status.textContent = fresh + " communiqué(s) nouveau(x) depuis votre dernier passage.";
  }

  // FAQ: filter as you type; Enter takes the first answer shown into the call.
  const search = document.getElementById("faq-search");
  const entries = Array.from(document.querySelectorAll(".tocsin-faq-entry"));
  const count = document.getElementById("faq-count");
  function filter() {
    const words = fold(search.value);
    let shown = 0;
    for (const entry of entries) {
      const hay = entry.dataset.search;
      const match = words.every((w) => hay.includes(w));
      entry.hidden = !match;
      if (match) shown += 1;
    }
    count.textContent = shown + " réponse" + (shown > 1 ? "s" : "");
  }
  if (search) {
    search.addEventListener("input", filter);
    search.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const first = entries.find((e) => !e.hidden);
      if (first) useFaq(first);
    });
  }

  const form = document.getElementById("cip-call");
  function useFaq(entry) {
    if (!form) return;
    document.getElementById("call-faq").value = entry.dataset.faqId;
    document.getElementById("call-answer").value = entry.querySelector(".tocsin-faq-answer").textContent;
    document.getElementById("call-faq-used").textContent = "Réponse n° " + entry.dataset.faqId + " de la FAQ";
    say("Réponse de la FAQ reprise dans l'appel.");
    saveDraft();
  }
  for (const button of document.querySelectorAll("[data-use-faq]")) {
    button.addEventListener("click", () => useFaq(button.closest(".tocsin-faq-entry")));
  }
  if (!form) return;

  const status = document.getElementById("cip-call-status");
  function say(text) { if (status) status.textContent = text; }
  const draftKey = "tocsin-cip-draft-" + form.dataset.crisis;
  const offset = Date.parse(form.dataset.serverNow) - Date.now();
  const fields = () => Array.from(form.elements).filter((f) => f.name && f.name !== "csrf_token");

  function saveDraft() {
    const draft = {};
    for (const f of fields()) draft[f.name] = f.type === "checkbox" ? f.checked : f.value;
    localStorage.setItem(draftKey, JSON.stringify(draft));
  }
  function restoreDraft() {
    const raw = localStorage.getItem(draftKey);
    if (!raw) return;
    let draft;
    try { draft = JSON.parse(raw); } catch (e) { return; }
    let restored = false;
    for (const f of fields()) {
      if (!(f.name in draft)) continue;
      if (f.name === "call_key") { f.value = draft[f.name]; continue; } // the draft's key: saved once
      if (f.type === "checkbox") { f.checked = Boolean(draft[f.name]); } else if (!f.value) { f.value = draft[f.name]; }
      restored = restored || Boolean(draft[f.name]);
    }
    if (restored) say("Brouillon d'appel restauré.");
  }
  if (form.dataset.savedCall) {
    localStorage.removeItem(draftKey);
    say("Appel enregistré.");
  } else {
    restoreDraft();
  }
  form.addEventListener("input", saveDraft);
  form.addEventListener("change", saveDraft);

  const stamps = { F2: "call-received_at", F3: "call-answered_at", F4: "call-ended_at" };
  const labels = { F2: "reçu", F3: "décroché", F4: "fin" };
  document.addEventListener("keydown", (event) => {
    if (stamps[event.key] && !event.ctrlKey && !event.altKey && !event.metaKey) {
      event.preventDefault();
      const input = document.getElementById(stamps[event.key]);
      input.value = PARIS.format(new Date(Date.now() + offset)).replace(" ", "T");
      saveDraft();
      say("Heure « " + labels[event.key] + " » notée : " + input.value.slice(11) + ".");
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      saveDraft();
      form.requestSubmit();
    }
  });
})();
