// The tracking image goes into the draft as soon as the email is known to be tracked
// (a recipient makes client_py's decision "tracked", or the user pins it with the
// toggle), and comes out again if it stops being tracked (the recipients change, the
// toggle, plain-text mode, signing out).
//
// Why: Gmail saves the draft while the user writes and may send what it saved rather
// than re-reading the editor at Send (KartikTalwar/gmail.js #802, #170, #488). With
// the pixel already in the draft, what Gmail saved carries it. Every insertion and
// removal is announced to Gmail's editor the way it notices typing (editor_signal.js).
// Links are not touched here: they are rewritten only at Send, so the writer never
// sees a tracked address while writing.
//
// Nothing is registered with the server yet: the worker picks the pixel's token
// (send_flow.js draftPixel) and the server takes it when the email is sent
// (POST /messages with pixel_token). A draft that is discarded leaves nothing behind.
// The send path (send_guard.js) re-checks at Send: exactly one pixel, where client_py
// puts it (a pixel the user deleted or Gmail duplicated is put right), and takes the
// draft's pixel out again if the email goes out untracked (`withdraw`).
//
// A draft reopened later (after a page reload, or opened from Drafts) still carries
// the pixel an earlier page put in, which this page did not insert. It is adopted
// (`adopt`, when the compose opens and whenever there is no draft pixel yet) as if
// inserted here: kept and locked when tracked, withdrawn when not (an untracked email
// carries no pixel), and its token is the one Send registers. Adopted is only
// client_py's wrapper ([data-engage-pixel]) in the sender's own part, where client_py
// puts it: not inside or after quoted content (Gmail's .gmail_quote, a blockquote:
// the pixel of the email being replied to or forwarded is that email's, and stays
// byte for byte), not in the signature, holding one image with this account's pixel
// address (send_flow.js pixelUrlOf). While the decision is still coming, an adopted
// pixel stays where it is (no out-and-in churn in the saved draft). If the server
// refuses its token at Send (another account's), the worker registers a fresh one and
// client_py's plan replaces the pixel (send_flow.js prepareSend).
//
// In the draft the pixel's wrapper is not editable (contenteditable="false"): it is a
// zero-height, font-size 0 box at the end (or start) of the body, and Chromium puts the
// caret inside it on Ctrl+End (Ctrl+Home), so what the user typed next would be
// invisible and go with the pixel. The attribute comes off at Send (`unlock`), before
// the body is read, so what is sent is client_py's snippet exactly.
//
// The sender's own browser never loads it (background/pixel_block.js).
//
// A classic script: defines `globalThis.EngageDraftPixel`. DOM calls only (Trusted Types).
(() => {
  "use strict";
  if (globalThis.EngageDraftPixel) return;
  const G = globalThis.EngageGmail;
  const Edit = globalThis.EngageBodyEdit;
  const Editor = globalThis.EngageEditor;
  const link = globalThis.EngageContent;
  const { MSG } = globalThis.EngageMessages;

  const ASK_MS = 3000; // Python may still be starting with the browser
  const RETRY_MS = 400; // the user typed while the plan was made: try again shortly
  const RETRIES = 5; // then leave it to the send path (a body the DOM edit cannot match)
  const MARKER = "[data-engage-pixel]"; // client_py/snippet.py MARKER_ATTR
  const TOKEN = /^[A-Za-z0-9_-]{22,64}$/; // send_flow.js PIXEL_TOKEN
  // Where the sender's own part ends, and what client_py never puts the pixel into
  // (client_py/bodyparts.py QUOTE_CLASSES, QUOTE_IDS, SIGNATURE_CLASSES; any blockquote).
  const QUOTE = ".gmail_quote, .gmail_quote_container, .moz-cite-prefix, .yahoo_quoted, .protonmail_quote, "
    + '[id="appendonsend" i], [id="divRplyFwdMsg" i], [id="mail-editor-reference-message-container" i], '
    + 'blockquote, a[name="_MailEndCompose"]';
  const PROTECTED = `${QUOTE}, .gmail_signature, .moz-signature, [id="signature" i]`;

  function pixelsOf(body, url) {
    return [...body.getElementsByTagName("img")].filter((img) => img.getAttribute("src") === url);
  }

  function wrappersOf(body, url) {
    return pixelsOf(body, url).map((img) => img.closest(MARKER)).filter((w) => w && body.contains(w));
  }

  /** The Engage pixel an earlier page left in this draft, as {token, pixelUrl}, or null
   *  (see the top of this file for which one counts). */
  function leftOver(body) {
    const base = link.context.publicUrl;
    if (!base) return null;
    const prefix = `${base}/p/`;
    const quote = body.querySelector(QUOTE);
    for (const wrapper of body.querySelectorAll(MARKER)) {
      if (quote && !(quote.compareDocumentPosition(wrapper) & Node.DOCUMENT_POSITION_PRECEDING)) break;
      const inside = wrapper.parentElement && wrapper.parentElement.closest(PROTECTED);
      if (inside && body.contains(inside)) continue;
      const images = wrapper.getElementsByTagName("img");
      if (images.length !== 1) continue;
      const src = images[0].getAttribute("src") || "";
      if (!src.startsWith(prefix) || !src.endsWith(".gif")) continue;
      const token = src.slice(prefix.length, -".gif".length);
      if (TOKEN.test(token)) return { token, pixelUrl: src };
    }
    return null;
  }

  /** A pixel left from before becomes this page's draft pixel; true if there was one. */
  function adopt(state, body = G.bodyOf(state.compose)) {
    if (state.draft || !body) return Boolean(state.draft);
    const found = leftOver(body);
    if (found) state.draft = { ...found, adopted: true };
    return Boolean(found);
  }

  /** Keep the caret out of the pixel's box (see the top of this file); true on a change. */
  function lock(body, url) {
    let changed = false;
    for (const wrapper of wrappersOf(body, url)) {
      if (wrapper.getAttribute("contenteditable") !== "false") {
        wrapper.setAttribute("contenteditable", "false");
        changed = true;
      }
    }
    return changed;
  }

  /** At Send: the draft's pixel as client_py's snippet again (no contenteditable). The
   *  caller announces the change when this says there was one. */
  function unlock(state) {
    const body = G.bodyOf(state.compose);
    adopt(state, body);
    if (!state.draft || !body) return false;
    let changed = false;
    for (const wrapper of wrappersOf(body, state.draft.pixelUrl)) {
      if (wrapper.hasAttribute("contenteditable")) {
        wrapper.removeAttribute("contenteditable");
        changed = true;
      }
    }
    return changed;
  }

  function wanted(state) {
    return globalThis.EngageCompose.willTrack(state) === true;
  }

  /** Bring the draft in line with whether the email is tracked (called on every change). */
  function sync(state, retrying = false) {
    if (state.gesture) return; // the send path owns the body now
    if (!retrying) state.draftRetries = 0;
    if (state.draftBusy) {
      state.draftAgain = true;
      return;
    }
    const body = G.bodyOf(state.compose);
    if (!body || !state.compose.isConnected) return;
    adopt(state, body); // a draft reopened with the pixel an earlier page put in
    const track = globalThis.EngageCompose.willTrack(state);
    if (track === true) {
      if (!state.draft || !pixelsOf(body, state.draft.pixelUrl).length) insert(state, body);
      else if (lock(body, state.draft.pixelUrl)) Editor.changed(body); // after a Send that did not happen
    } else if (state.draft && !(track === null && state.draft.adopted)) {
      withdraw(state); // (an adopted pixel waits for the decision: no out-and-in churn)
    }
  }

  async function insert(state, body) {
    state.draftBusy = true;
    let retry = false;
    try {
      const html = body.innerHTML;
      const reply = await link.ask(MSG.DRAFT_PIXEL, { body: html, token: state.draft && state.draft.token }, ASK_MS);
      if (!reply.ok || state.gesture || !wanted(state) || !body.isConnected) return;
      if (body.innerHTML !== html) {
        retry = true; // the user kept typing: plan again on what is there now
        return;
      }
      const applied = Edit.apply(body, reply.plan);
      if (!applied.exact) {
        applied.undo();
        retry = true;
        return;
      }
      state.draft = { token: reply.token, pixelUrl: reply.pixelUrl };
      state.draftRetries = 0;
      lock(body, reply.pixelUrl);
      Editor.changed(body);
    } catch (error) {
      // Python still starting, a body client_py will not track (plain text), a plan
      // that no longer fits: the send path inserts the pixel at Send instead.
      retry = error instanceof Edit.PlanMismatch;
    } finally {
      state.draftBusy = false;
      const again = state.draftAgain;
      state.draftAgain = false;
      if (retry && (state.draftRetries || 0) < RETRIES) {
        state.draftRetries = (state.draftRetries || 0) + 1;
        setTimeout(() => sync(state, true), RETRY_MS);
      } else if (again) {
        sync(state);
      }
    }
  }

  /** Take the draft's pixel out (the email is not tracked after all); true if it was there. */
  function withdraw(state) {
    const body = G.bodyOf(state.compose);
    adopt(state, body);
    let draft = state.draft;
    state.draft = null;
    if (!body) return false;
    let removed = false;
    // The draft's pixel, then any other an earlier page left (a draft reopened twice).
    for (let n = 0; draft && n < 8; n += 1, draft = leftOver(body)) {
      for (const img of pixelsOf(body, draft.pixelUrl)) {
        const wrapper = img.closest(MARKER);
        (wrapper && body.contains(wrapper) ? wrapper : img).remove();
        removed = true;
      }
    }
    if (removed) Editor.changed(body);
    return removed;
  }

  /** The token of the pixel in the draft, for the send path to register. */
  function tokenOf(state) {
    adopt(state);
    return state.draft ? state.draft.token : null;
  }

  globalThis.EngageDraftPixel = Object.freeze({ sync, withdraw, unlock, tokenOf });
})();
