// Live updates of a case page. New posts are counted and announced politely; they
// appear only when the reader asks (the "n nieuwe reacties" button), so nothing moves
// while someone reads or types. Weighing counts and moderation changes update in place
// unless the reader is busy with that very post. The connection recovers by itself and
// resumes after the last event it saw.

import { announce as announceIn, follow, say, showState } from "./realtime.js";

const main = document.querySelector("main[data-case]");

if (main) {
  const caseId = main.dataset.case;
  const topic = `case:${caseId}`;
  let seq = Number(main.dataset.seq || 0);
  let epoch = main.dataset.epoch || null;
  const thread = document.getElementById("draad");
  const button = document.getElementById("nieuwe-berichten");
  const announcer = document.getElementById("aankondiging");
  const state = document.getElementById("verbinding");
  const pause = document.getElementById("live-pauze");
  const presence = document.getElementById("aanwezig");
  const fresh = new Set(); // posts created since the page loaded, not shown yet
  const stale = new Set(); // shown posts that changed while the reader was busy with them
  let announceTimer = null;

  const announce = (text) => {
    if (!pause?.checked) announceIn(announcer, text);
  };

  const updateButton = () => {
    if (!button) return;
    const n = fresh.size + stale.size;
    button.hidden = n === 0;
    button.textContent = n === 1 ? say("new_posts_one") : say("new_posts", n);
    if (fresh.size > 0) {
      window.clearTimeout(announceTimer);
      // Bursts become one announcement.
      announceTimer = window.setTimeout(() => {
        announce(fresh.size === 1 ? say("announce_one") : say("announce", fresh.size));
      }, 1500);
    }
  };

  const article = (id) => document.getElementById(`bericht-${id}`);

  const busyWith = (el) =>
    el.contains(document.activeElement) ||
    [...el.querySelectorAll("textarea")].some((t) => t.value.trim() !== "") ||
    [...el.querySelectorAll("details[open]")].length > 0;

  const place = (el) => {
    const existing = article(el.dataset.id);
    if (existing) {
      existing.replaceWith(el);
      return;
    }
    document.getElementById("leeg")?.remove();
    const parentId = el.dataset.parent;
    const parent = parentId && parentId !== "0" ? article(parentId) : null;
    if (!parent) {
      thread.append(el);
      return;
    }
    // After the parent and everything nested under it.
    const depth = Number(parent.dataset.depth);
    let next = parent.nextElementSibling;
    while (next && Number(next.dataset.depth) > depth) next = next.nextElementSibling;
    thread.insertBefore(el, next);
  };

  const fetchPosts = async (ids) => {
    if (ids.length === 0) return [];
    const res = await fetch(`/casus/${caseId}/berichten?ids=${ids.join(",")}`, {
      credentials: "same-origin",
    });
    if (!res.ok) return [];
    const tpl = document.createElement("template");
    tpl.innerHTML = await res.text();
    return [...tpl.content.querySelectorAll("article.post")];
  };

  const showNew = async () => {
    const ids = [...fresh, ...stale].slice(0, 50);
    const posts = await fetchPosts(ids);
    ids.forEach((id) => { fresh.delete(id); stale.delete(id); });
    let first = null;
    for (const el of posts) {
      const isNew = !article(el.dataset.id);
      place(el);
      if (isNew && !first) first = el;
    }
    updateButton();
    if (first) {
      first.setAttribute("tabindex", "-1");
      first.focus();
    }
    announce(say("shown"));
  };

  const refresh = async (id) => {
    const el = article(id);
    if (!el) return;
    if (busyWith(el)) {
      stale.add(id);
      updateButton();
      return;
    }
    const [replacement] = await fetchPosts([id]);
    if (replacement && article(id) && !busyWith(article(id))) article(id).replaceWith(replacement);
  };

  const bumpTally = (post) => {
    if (!post || post.depth !== 0 || !post.verdict || post.status !== "visible") return;
    const cell = document.querySelector(`[data-tally="${post.verdict}"]`);
    if (cell) cell.textContent = String(Number(cell.textContent) + 1);
  };

  const onEvent = (msg) => {
    if (typeof msg.seq === "number") seq = Math.max(seq, msg.seq);
    const post = msg.post;
    switch (msg.event) {
      case "post.created":
        if (post && !article(post.id)) {
          fresh.add(post.id);
          updateButton();
        }
        bumpTally(post);
        break;
      case "post.edited":
      case "post.withdrawn":
      case "post.moderated":
        if (post) refresh(post.id);
        break;
      case "weighing.changed": {
        const el = msg.data && article(msg.data.post_id);
        if (el) {
          for (const kind of ["agree", "disagree", "pass"]) {
            el.querySelectorAll(`[data-count="${kind}"]`).forEach((c) => {
              c.textContent = String(msg.data[kind]);
            });
          }
        }
        break;
      }
      case "case.opened":
      case "case.closed":
      case "case.response":
      case "case.corrected":
        announce(say("reload"));
        break;
      default:
        break;
    }
  };

  follow({
    stateEl: state,
    subscription: () => ({ type: "subscribe", topic, after: seq, ...(epoch ? { epoch } : {}) }),
    onMessage: (msg, socket) => {
      // Other scripts of the page (watch.js) listen here instead of opening a socket.
      document.dispatchEvent(new CustomEvent("beraad:live", { detail: msg }));
      if (msg.type === "subscribed") {
        if (msg.epoch) epoch = msg.epoch;
      } else if (msg.type === "event") {
        onEvent(msg);
      } else if (msg.type === "presence" && presence) {
        presence.textContent =
          msg.panelists === 1 ? say("presence_one") : say("presence", msg.panelists);
      } else if (msg.type === "error" && msg.code === "resync_required" && msg.topic) {
        // Our position is no longer valid: the thread must be read again. Reload the
        // page unless the reader is writing something, which a reload would lose.
        const writing = [...document.querySelectorAll("textarea")].some((t) => t.value.trim() !== "");
        if (!writing) {
          window.location.reload();
          return;
        }
        showState(state, "offline", "reload");
        socket.close();
      }
    },
  });

  button?.addEventListener("click", showNew);
}
