// Session time-out warning (WCAG 2.2.1): a few minutes before an idle session ends,
// a dialog offers to stay logged in; that one request extends the session.

const WARN_BEFORE_MS = 5 * 60 * 1000;
const body = document.body;
const dialog = document.getElementById("sessie-waarschuwing");
const button = document.getElementById("sessie-verlengen");
let timer = null;

const schedule = (expiresAt) => {
  window.clearTimeout(timer);
  const due = new Date(expiresAt).getTime() - WARN_BEFORE_MS - Date.now();
  // Timers longer than about 24 days overflow; sessions are far shorter.
  timer = window.setTimeout(() => {
    if (!dialog) return;
    dialog.hidden = false;
    button?.focus();
  }, Math.max(0, Math.min(due, 2 ** 31 - 1)));
};

if (body.dataset.expires && dialog) {
  schedule(body.dataset.expires);
  button?.addEventListener("click", async () => {
    const res = await fetch("/api/v1/auth/session", { credentials: "same-origin" });
    if (res.ok) {
      const session = await res.json();
      body.dataset.expires = session.expires_at;
      dialog.hidden = true;
      schedule(session.expires_at);
    } else {
      window.location.assign("/");
    }
  });
}

// The error summary's links move the focus to the field they name (the browser would
// only scroll there), as the GOV.UK and NL Design System error summaries do.
document.getElementById("foutoverzicht")?.addEventListener("click", (event) => {
  const link = event.target.closest?.("a[href^='#']");
  const target = link && document.getElementById(link.getAttribute("href").slice(1));
  if (!target) return;
  event.preventDefault();
  target.closest("details")?.setAttribute("open", "");
  target.focus();
  target.scrollIntoView({ block: "center" });
});
