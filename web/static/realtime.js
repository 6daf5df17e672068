// What the live scripts share: the page's texts (the `js.*` catalogue keys in the
// `#teksten` island), a polite announcer, and following one WebSocket topic with a
// visible connection state and reconnection with backoff.

/** The page's texts for scripts. */
export const texts = JSON.parse(document.getElementById("teksten")?.textContent || "{}");

/** The text under `key`, with `{n}` filled in. */
export const say = (key, n) => (texts[key] || key).replace("{n}", String(n));

/** Puts `text` in a live region; replacing it makes screen readers read it once. */
export function announce(region, text) {
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => { region.textContent = text; }, 50);
}

/** Shows a connection state (`online`, `connecting`, `reconnecting`, `offline`). */
export function showState(el, name, key) {
  if (!el) return;
  el.dataset.state = name;
  const label = el.querySelector(".label");
  if (label) label.textContent = say(key);
}

/**
 * Follows a topic over `/api/v1/ws`: sends `subscription()` on every (re)connect, hands
 * each message to `onMessage(msg, socket)`, shows the state on `stateEl` (if any) and
 * reconnects with jittered exponential backoff (from 1 s, doubling up to 30 s), unless
 * `onMessage` set the state to `offline` before closing. A node that shuts down (close
 * code 1012, `service_restart`) is no failure: the script reconnects within 0.2–1.7 s
 * (another node behind the balancer takes it) and resumes from its last event, since
 * `subscription()` is asked again on every connect.
 */
export function follow({ stateEl = null, subscription, onMessage }) {
  if (!("WebSocket" in window)) return;
  let retry = 1000;
  const connect = () => {
    showState(stateEl, "connecting", "connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
    socket.addEventListener("open", () => socket.send(JSON.stringify(subscription())));
    socket.addEventListener("message", (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      if (msg.type === "subscribed") {
        retry = 1000;
        showState(stateEl, "online", "online");
      }
      // The server cannot reach its database for a moment: ask again after the
      // suggested wait, on the same connection.
      if (msg.type === "error" && msg.code === "unavailable") {
        showState(stateEl, "reconnecting", "reconnecting");
        const wait = (msg.retry_after || 2) * 1000 + Math.random() * 500;
        window.setTimeout(() => {
          if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(subscription()));
        }, wait);
        return;
      }
      onMessage(msg, socket);
    });
    socket.addEventListener("close", (event) => {
      if (stateEl?.dataset.state === "offline") return;
      // The session ended (logout elsewhere, a password change, a suspension): trying
      // again cannot help; the page still works and says how to go on.
      if (event.code === 4001) {
        showState(stateEl, "offline", "session_ended");
        return;
      }
      showState(stateEl, "reconnecting", "reconnecting");
      // A node that drains (1012) closes every socket at once while the other nodes are
      // up: come back promptly, spread over 1.5 s so that the sockets do not all arrive
      // in the same instant, and keep the backoff for real failures.
      if (event.code === 1012) {
        window.setTimeout(connect, 200 + Math.random() * 1500);
        return;
      }
      // A server that went away (1001) may be one node alone: spread over a few seconds.
      const spread = event.code === 1001 ? 4000 : 500;
      window.setTimeout(connect, retry + Math.random() * spread);
      retry = Math.min(retry * 2, 30000);
    });
  };
  connect();
}
