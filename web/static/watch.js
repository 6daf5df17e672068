// Staff pages of one case. On the live watch and the analysis dashboard of an open case,
// the key figures (participation, verdict split, activity) are fetched again at most
// once every 10 seconds after events arrived, and replaced in place without any
// announcement, so nothing interrupts a reader. The number of staff watching is shown
// next to the panelists (live.js writes those). On the report, the print button.

import { follow } from "./realtime.js";

const REFRESH_MS = 10000;

const printButton = document.getElementById("afdrukken");
if (printButton) {
  printButton.hidden = false;
  printButton.addEventListener("click", () => window.print());
}

const region = document.getElementById("kerncijfers");
const staffPresence = document.getElementById("aanwezig-medewerkers");
const live = region?.dataset.live === "true";

if (region && live && "WebSocket" in window) {
  const caseId = region.dataset.caseId;
  const topic = `case:${caseId}`;
  let seq = Number(region.dataset.seq || document.querySelector("main")?.dataset.seq || 0);
  let dirty = false;
  let busy = false;

  const refresh = async () => {
    if (!dirty || busy || document.hidden) return;
    // Leave the figures alone while the reader has focus inside them.
    if (region.contains(document.activeElement)) return;
    busy = true;
    dirty = false;
    try {
      const res = await fetch(region.dataset.src, { credentials: "same-origin" });
      if (res.ok) {
        region.innerHTML = await res.text();
      } else {
        dirty = true;
      }
    } catch {
      dirty = true;
    } finally {
      busy = false;
    }
  };
  window.setInterval(refresh, REFRESH_MS);

  const onMessage = (msg, socket) => {
    if (msg.type === "subscribed") {
      if (typeof msg.head === "number" && msg.head > seq) dirty = true;
    } else if (msg.type === "event") {
      if (typeof msg.seq === "number") seq = Math.max(seq, msg.seq);
      dirty = true;
    } else if (msg.type === "presence" && staffPresence && typeof msg.staff === "number") {
      staffPresence.textContent = (staffPresence.dataset.text || "").replace("{n}", String(msg.staff));
    } else if (msg.type === "error" && msg.code === "resync_required") {
      // Too far behind to replay: the figures are read again anyway; start afresh.
      dirty = true;
      seq = 0;
      socket?.close();
    }
  };

  if (document.querySelector('script[src="/static/live.js"]')) {
    // The live thread on this page already follows the case: share its connection.
    document.addEventListener("beraad:live", (e) => onMessage(e.detail, null));
  } else {
    follow({ subscription: () => ({ type: "subscribe", topic, after: seq }), onMessage });
  }
}
