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
  const tick = () => {
    const now = Date.now();
    for (const el of document.querySelectorAll("time.due[datetime]")) {
      const due = Date.parse(el.getAttribute("datetime"));
      const left = Math.round((due - now) / 1000);
      const sign = left < 0 ? "−" : "";
      const s = Math.abs(left);
      const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      el.dataset.left = left;
      el.textContent = `${sign}${h ? h + " h " : ""}${m} min ${String(sec).padStart(2, "0")} s`;
      if (left < 0) el.classList.add("breached");
    }
  };
  tick();
  setInterval(tick, 1000);
  document.body.addEventListener("htmx:afterSettle", tick);  // new rows count down at once
});
