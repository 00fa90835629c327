// Marks where the sender already looks: in every thread list Gmail shows (Inbox, Sent,
// labels, search results) one mark before the subject of each tracked conversation,
// and in an open conversation one next to each tracked email the sender sent.
//
//   nothing    not tracked (or not known to the server)
//   ✓ grey     tracked, not opened yet
//   ✓✓ green   a counted open or click
//   ✓? amber, ringed  only machines fetched it (Apple Mail Privacy Protection, Gmail's
//              prefetcher, a scanner): "not a read"
//
// The hover text is client_py's plain words in the browser's language; a click opens
// the thread in the Engagement side panel.
//
// Gmail's list is virtualised: rows are thrown away and built again on every scroll
// and refresh. So marks are drawn from a cache, synchronously, in the mutation
// observer's callback (before the browser paints the new row: no flicker), each row
// keeps at most one (no duplicates), and only ids never seen are asked for, all the
// rows of one render in one message (the worker makes one request per page of ids).
// The stream tells us when a thread's mark is stale (MARKS_CHANGED).
//
// A classic script: defines `globalThis.EngageListMarks`. It adds only its own span
// elements (textContent, never HTML) and removes only those.
(() => {
  "use strict";
  if (globalThis.EngageListMarks) return;
  const G = globalThis.EngageGmail;
  const link = globalThis.EngageContent;
  const { MSG } = globalThis.EngageMessages;

  const BATCH_MS = 16; // rows of one render arrive in a few mutation batches
  const RETRY_MS = 10000; // after a failed ask (server down): not on every scroll
  const GLYPHS = { sent: "\u2713", opened: "\u2713\u2713", machine: "\u2713?" }; // client_py.marks.GLYPHS
  const ATTR = "data-engage-mark";
  // An answer is drawn for as long as the page lives, and asked again after this
  // (the worker's cache answers most): "last 2 hours ago" moves on, and an email tracked
  // from another browser gets its mark without a reload.
  const REFRESH_MS = 3 * 60 * 1000;
  const KEEP = 20000; // answers remembered (a long day of scrolling)

  const threads = new Map(); // Gmail thread id -> {mark | null (not tracked), at}
  const pixels = new Map(); // pixel address -> {mark | null, at}
  const wantedThreads = new Set();
  const wantedPixels = new Set();
  let timer = null;
  let asking = false;
  let retryAt = 0;
  let observer = null;
  let staleDuringAsk = null; // ids the stream changed while an ask was on its way

  function enabled() {
    return Boolean(link.context.signedIn);
  }

  function markElement(mark, key) {
    const span = document.createElement("span");
    span.className = `engage-mark engage-mark--${mark.state}`;
    span.setAttribute(ATTR, key);
    span.setAttribute("data-engage-state", mark.state);
    span.setAttribute("data-engage-thread", mark.threadId || "");
    span.setAttribute("role", "button");
    span.setAttribute("tabindex", "0");
    span.setAttribute("aria-label", mark.title);
    span.title = mark.title;
    span.textContent = GLYPHS[mark.state] || GLYPHS.sent;
    return span;
  }

  /** Put `mark` (or none) in `host` before `anchor`, replacing a stale one. */
  function place(host, anchor, key, mark) {
    const existing = host.querySelectorAll(`[${ATTR}]`);
    let keep = null;
    for (const el of existing) {
      const same = mark && !keep && el.getAttribute(ATTR) === key
        && el.getAttribute("data-engage-state") === mark.state && el.title === mark.title;
      if (same) keep = el;
      else el.remove();
    }
    if (keep || !mark || !anchor || !anchor.parentNode) return;
    anchor.parentNode.insertBefore(markElement(mark, key), anchor);
  }

  function known(map, key) {
    const entry = map.get(key);
    if (entry && Date.now() - entry.at > REFRESH_MS) return { ...entry, old: true };
    return entry;
  }

  function keep(map, key, mark) {
    map.delete(key); // re-inserted: the Map's order is the age order
    map.set(key, { mark, at: Date.now() });
    if (map.size > KEEP) map.delete(map.keys().next().value);
  }

  function drawRow(row) {
    const id = G.rowThreadId(row);
    if (!id || !enabled()) {
      place(row, null, "", null);
      return;
    }
    const entry = known(threads, id);
    if (!entry || entry.old) wantedThreads.add(id);
    // A recycled row may still carry another thread's mark: removed until known.
    place(row, G.rowMarkAnchor(row), id, entry ? entry.mark : null);
  }

  function pixelOf(message) {
    // Not a pixel in quoted text (a reply quoting the sender's email).
    const found = G.pixelImages(message, link.context.publicUrl)
      .find((img) => !img.closest(".gmail_quote, blockquote"));
    return found ? G.unproxied(found.getAttribute("src") || "") : "";
  }

  function drawMessage(message) {
    const url = enabled() ? pixelOf(message) : "";
    if (!url) {
      place(message, null, "", null);
      return;
    }
    const entry = known(pixels, url);
    if (!entry || entry.old) wantedPixels.add(url);
    place(message, G.messageMarkAnchor(message), url, entry ? entry.mark : null);
  }

  function schedule() {
    if (timer || asking || (!wantedThreads.size && !wantedPixels.size)) return;
    timer = setTimeout(ask, Math.max(BATCH_MS, retryAt - Date.now()));
  }

  async function ask() {
    timer = null;
    const threadIds = [...wantedThreads].filter((id) => !known(threads, id) || known(threads, id).old);
    const shown = [...wantedPixels].filter((url) => !known(pixels, url) || known(pixels, url).old);
    wantedThreads.clear();
    wantedPixels.clear();
    if (!enabled() || (!threadIds.length && !shown.length)) return;
    asking = true;
    staleDuringAsk = new Set();
    try {
      const answer = await link.ask(MSG.MARKS, { threadIds, pixels: shown }, 15000);
      const stale = staleDuringAsk;
      for (const id of threadIds) if (!stale.has(id)) keep(threads, id, answer.threads[id] || null);
      for (const url of shown) {
        const mark = answer.pixels[url] || null;
        if (!stale.has("*") && !(mark && stale.has(mark.threadId))) keep(pixels, url, mark);
      }
      retryAt = 0;
      redraw();
    } catch {
      retryAt = Date.now() + RETRY_MS; // the ids are asked for again when seen again
    } finally {
      asking = false;
      staleDuringAsk = null;
      schedule();
    }
  }

  // Gmail names a new email's conversation only once it is sent: its "Message sent"
  // toast links to it. The worker pairs that id with the tracked send just made, so
  // the email is marked in the Sent list at once (not only once its conversation was
  // opened in this browser).
  const sentSeen = new Set();

  function noticeSent(node) {
    const id = G.sentMessageId(node);
    if (!id || sentSeen.has(id) || !enabled()) return;
    sentSeen.add(id);
    link.ask(MSG.SENT_SEEN, { gmailId: id }, 5000).catch(() => {});
  }

  /** Draw the rows and messages in or under `nodes` (main.js-style added nodes). */
  function scan(nodes) {
    const rows = new Set();
    const messages = new Set();
    for (const node of nodes) {
      if (!node || node.nodeType !== 1) continue;
      if (node.hasAttribute(ATTR)) continue; // our own mark going in
      noticeSent(node);
      const row = G.threadRowOf(node);
      if (row) rows.add(row);
      else for (const r of G.threadRows(node)) rows.add(r);
      const message = G.shownMessageOf(node);
      if (message) messages.add(message);
      else for (const m of G.shownMessages(node)) messages.add(m);
    }
    for (const row of rows) drawRow(row);
    for (const message of messages) drawMessage(message);
    schedule();
  }

  function redraw() {
    if (document.documentElement) scan([document.documentElement]);
  }

  function onMutations(mutations) {
    const touched = [];
    for (const mutation of mutations) {
      if (mutation.type === "attributes") touched.push(mutation.target);
      else for (const node of mutation.addedNodes) touched.push(node);
    }
    if (touched.length) scan(touched);
  }

  /** The stream says these threads changed: forget them and draw them again. */
  function changed({ threadIds = [], serverIds = [] } = {}) {
    for (const id of threadIds) threads.delete(id);
    const stale = new Set([...threadIds, ...serverIds]);
    if (staleDuringAsk) for (const id of [...stale, "*"]) staleDuringAsk.add(id); // "*": unknown pixels too
    for (const [url, { mark }] of pixels) if (mark && stale.has(mark.threadId)) pixels.delete(url);
    // An email just sent is not known by its pixel yet: ask for unknown ones again.
    for (const [url, { mark }] of pixels) if (!mark) pixels.delete(url);
    redraw();
    return true;
  }

  /** Signed in or out, another account: start again. */
  function reset() {
    threads.clear();
    pixels.clear();
    redraw();
  }

  function onActivate(event) {
    const mark = event.target.closest && event.target.closest(`[${ATTR}]`);
    if (!mark) return;
    if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") return;
    // Gmail would open the conversation (or select the row) under the mark.
    event.preventDefault();
    event.stopPropagation();
    if (event.type === "mousedown") return;
    link.ask(MSG.MARK_OPEN, { threadId: mark.getAttribute("data-engage-thread") }, 5000).catch(() => {});
  }

  function start() {
    if (observer) return;
    observer = new MutationObserver(onMutations);
    // Attributes too: Gmail may give a row another thread instead of a new row.
    observer.observe(document.documentElement, {
      childList: true, subtree: true, attributes: true,
      attributeFilter: ["data-legacy-thread-id", "data-thread-id", "param"],
    });
    for (const type of ["mousedown", "click", "keydown"]) document.addEventListener(type, onActivate, true);
    redraw();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
  else start();

  globalThis.EngageListMarks = Object.freeze({
    scan, changed, reset,
    cached: () => ({ threads: threads.size, pixels: pixels.size }),
  });
})();
