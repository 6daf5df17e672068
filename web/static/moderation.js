// The moderation queue, live and by keyboard. The counts on the queue tabs follow the
// `moderation:SLUG` topic; new items are announced politely and shown only when the
// moderator refreshes (nothing moves under their hands), and an item on the page that
// changed elsewhere gets a notice. Keyboard shortcuts (listed on the page under
// "Sneltoetsen") move between items and open their forms; they are ignored while typing
// and when Ctrl, Alt or Cmd is held.

import { announce as announceIn, follow, say, showState } from "./realtime.js";

const main = document.querySelector("main[data-moderation]");

const items = () => [...document.querySelectorAll("article.mod-item")];
const heading = (item) => item.querySelector("h3") || item;

/** Live counts and the "n nieuwe meldingen — vernieuwen" link. */
function live(slug) {
  const topic = `moderation:${slug}`;
  const state = document.getElementById("verbinding");
  const box = document.getElementById("mod-nieuw");
  const link = document.getElementById("mod-vernieuwen");
  const announcer = document.getElementById("mod-aankondiging");
  const fresh = new Set(); // posts that entered a queue since the page loaded
  let last = null; // the counts last seen
  let announceTimer = null;

  const announce = (text) => announceIn(announcer, text);

  const readCounts = () => {
    const out = {};
    for (const kind of ["pending", "flagged"]) {
      const el = document.querySelector(`[data-count="${kind}"]`);
      out[kind] = el ? Number(el.textContent) : 0;
    }
    return out;
  };

  const showCounts = (msg) => {
    for (const kind of ["pending", "flagged"]) {
      if (typeof msg[kind] !== "number") continue;
      document.querySelectorAll(`[data-count="${kind}"]`).forEach((el) => {
        el.textContent = String(msg[kind]);
      });
    }
  };

  const updateLink = () => {
    if (!box || !link) return;
    const n = fresh.size;
    box.hidden = n === 0;
    link.textContent = n === 1 ? say("moderation.new_one") : say("moderation.new", n);
    window.clearTimeout(announceTimer);
    if (n > 0) {
      // A burst of flags becomes one announcement.
      announceTimer = window.setTimeout(() => {
        announce(n === 1 ? say("moderation.announce_one") : say("moderation.announce", n));
      }, 1500);
    }
  };

  const markChanged = (id) => {
    const item = document.getElementById(`item-${id}`);
    if (!item || item.querySelector(".mod-changed")) return;
    const note = document.createElement("p");
    note.className = "notice info mod-changed";
    note.setAttribute("role", "status");
    note.textContent = say("moderation.changed");
    item.querySelector("header")?.append(note);
  };

  const onMessage = (msg) => {
    const before = last || readCounts();
    const grew =
      (msg.pending ?? before.pending) > before.pending ||
      (msg.flagged ?? before.flagged) > before.flagged;
    last = { pending: msg.pending ?? before.pending, flagged: msg.flagged ?? before.flagged };
    showCounts(msg);
    if (msg.post_id == null) return;
    if (document.getElementById(`item-${msg.post_id}`)) {
      markChanged(msg.post_id);
    } else if (grew) {
      fresh.add(msg.post_id);
      updateLink();
    }
  };

  follow({
    stateEl: state,
    subscription: () => ({ type: "subscribe", topic, after: 0 }),
    onMessage: (msg, socket) => {
      if (msg.topic !== topic && msg.topic != null) return;
      if (msg.type === "subscribed") {
        // Counts as they are now: the page may be a few seconds old.
        last = readCounts();
        showCounts(msg);
        if (typeof msg.pending === "number") last = { pending: msg.pending, flagged: msg.flagged };
      } else if (msg.type === "moderation") {
        onMessage(msg);
      } else if (msg.type === "error" && msg.code === "forbidden") {
        showState(state, "offline", "offline");
        socket.close();
      }
    },
  });
}

/** The keyboard shortcuts. */
function shortcuts() {
  let current = -1;

  const currentIndex = () => {
    const list = items();
    const i = list.findIndex((el) => el.contains(document.activeElement));
    if (i >= 0) current = i;
    return current < list.length ? current : -1;
  };

  const focusItem = (i) => {
    const list = items();
    if (list.length === 0) return;
    current = Math.max(0, Math.min(list.length - 1, i));
    heading(list[current]).focus();
  };

  const openDialog = (item, action) => {
    const details = item.querySelector(`details.mod-dialog-${action}`);
    if (!details) return;
    details.open = true;
    const radio = details.querySelector('input[type="radio"]:checked') ||
      details.querySelector('input[type="radio"]');
    (radio || details.querySelector("summary"))?.focus();
  };

  const submit = (item, selector) => {
    const form = item.querySelector(selector);
    if (!form) return;
    if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.submit();
  };

  const typing = (el) =>
    el instanceof HTMLElement &&
    (el.isContentEditable || el.closest("input, textarea, select") !== null);

  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape") {
      // Close the dialog the focus is in and return to its summary.
      const details = document.activeElement?.closest?.("details.mod-dialog[open]");
      if (details) {
        details.open = false;
        details.querySelector("summary")?.focus();
        e.preventDefault();
      }
      return;
    }
    if (typing(e.target)) return;
    const i = currentIndex();
    const item = i >= 0 ? items()[i] : null;
    switch (e.key) {
      case "j":
        focusItem(i < 0 ? 0 : i + 1);
        break;
      case "k":
        focusItem(i < 0 ? 0 : i - 1);
        break;
      case "c":
      case "a":
      case "h":
      case "r":
        // Acting needs a chosen item: without one, the first is chosen first.
        if (!item) {
          focusItem(0);
          break;
        }
        if (e.key === "c") submit(item, "form.mod-claim");
        else if (e.key === "a") submit(item, "form.mod-approve");
        else openDialog(item, e.key === "h" ? "hide" : "reject");
        break;
      case "?":
        document.getElementById("sneltoetsen-kop")?.focus();
        break;
      default:
        return;
    }
    e.preventDefault();
  });

  const focusOnArrival = () => {
    // A form that failed comes back open with its error: put the focus on the field.
    const invalid = document.querySelector('.mod-item [aria-invalid="true"]');
    const target = location.hash && document.getElementById(location.hash.slice(1));
    if (invalid) {
      current = items().indexOf(invalid.closest("article.mod-item"));
      invalid.focus();
    } else if (target) {
      // After an action the page comes back with the next item as anchor: focus its
      // heading, as j and k do.
      const at = items().indexOf(target);
      if (at >= 0) current = at;
      (at >= 0 ? heading(target) : target).focus();
    }
  };
  // The browser moves the focus to the anchor after loading: come after it.
  if (document.readyState === "complete") focusOnArrival();
  else window.addEventListener("load", () => window.setTimeout(focusOnArrival, 0));
}

if (main) {
  live(main.dataset.moderation);
  shortcuts();
}
