// Caseflow console: the CSRF token on every htmx request, problems (4xx) swapped in like
// pages, and SLA countdowns that tick in the browser (amber at the warning, red at the
// breach; the server marks both, the browser turns red the moment the due time passes).
document.addEventListener("DOMContentLoaded", () => {
  const token = document.querySelector('meta[name="csrf-token"]')?.content;
  document.body.addEventListener("htmx:configRequest", (e) => {
    if (token) e.detail.headers["X-CSRFToken"] = token;
  });
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "4..", swap: true, error: false },
    { code: "...", swap: false, error: true },
  ];
  // The floor refreshes itself on every change, but not under a supervisor's hands: not
  // while requests are selected or a field of the bulk form has the focus, and not while
  // the outcome of their last step is shown (its Done button refreshes it).
  // The same for a deal's page and the deals board: not while the manager types in a field,
  // has a form open or reads why a move was refused.
  const handsOn = {
    "floor-live": "#bulk input:checked, #bulk :focus, #results, #problem",
    "deal-live": "#deal input:focus, #deal select:focus, #deal details[open], #problem",
    "board-live": "#board input:focus, #board select:focus, #board details[open], #board .problem",
  };
  document.body.addEventListener("htmx:confirm", (e) => {
    const busy = handsOn[e.detail.elt.id];
    if (busy && document.querySelector(busy)) e.preventDefault();
  });
  const units = document.documentElement.lang === "ru"
    ? { h: "ч", m: "мин", s: "с" } : { h: "h", m: "min", s: "s" };
  const tick = () => {
    const now = Date.now();
    for (const el of document.querySelectorAll("time.due[datetime]")) {
      const due = Date.parse(el.getAttribute("datetime"));
      const left = Math.round((due - now) / 1000);
      const sign = left < 0 ? "−" : "";
      const s = Math.abs(left);
      const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      el.dataset.left = left;
      el.textContent =
        `${sign}${h ? `${h} ${units.h} ` : ""}${m} ${units.m} ${String(sec).padStart(2, "0")} ${units.s}`;
      if (left < 0) el.classList.add("breached");
    }
  };
  tick();
  setInterval(tick, 1000);
  document.body.addEventListener("htmx:afterSettle", tick);  // new rows count down at once

  // Canned answers: `::name` then Tab in a text area puts the case's filled-in text there.
  document.addEventListener("keydown", (e) => {
    const area = e.target;
    if (e.key !== "Tab" || e.shiftKey || !(area instanceof HTMLTextAreaElement)) return;
    const source = document.getElementById("snippets");
    if (!source) return;
    const before = area.value.slice(0, area.selectionStart);
    const found = before.match(/::([a-z0-9][a-z0-9_-]*)$/);
    const text = found && JSON.parse(source.textContent)[found[1]];
    if (!text) return;
    e.preventDefault();
    const start = before.length - found[0].length;
    area.value = area.value.slice(0, start) + text + area.value.slice(area.selectionStart);
    area.selectionStart = area.selectionEnd = start + text.length;
  });

  // Shortcuts, never while typing: n next case, t take, s start, c comment, r resolve,
  // q queues, ? the list of them.
  const openForm = (name) => {
    const form = document.querySelector(`details[data-form="${name}"]`);
    if (!form) return false;
    form.open = true;
    form.querySelector("textarea, input:not([type=hidden]), select")?.focus();
    return true;
  };
  const press = (name) => {
    const button = document.querySelector(`button[data-action="${name}"]`);
    if (button) button.click();
    return !!button;
  };
  const keys = {
    n: () => { const next = document.querySelector("a[data-next]"); if (next) next.click(); },
    t: () => press("take"),
    s: () => press("start"),
    c: () => openForm("comment"),
    r: () => openForm("resolve"),
    q: () => { window.location.href = "/queue"; },
    "?": () => { const d = document.getElementById("keys"); if (d && !d.open) d.showModal(); },
  };
  document.addEventListener("keydown", (e) => {
    const t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t.closest && t.closest("input, textarea, select, [contenteditable]")) return;
    const run = keys[e.key];
    if (run) { e.preventDefault(); run(); }
  });
});
