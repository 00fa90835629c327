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

  function pixelsOf(body, url) {
    return [...body.getElementsByTagName("img")].filter((img) => img.getAttribute("src") === url);
  }

  function wrappersOf(body, url) {
    return pixelsOf(body, url).map((img) => img.closest(MARKER)).filter((w) => w && body.contains(w));
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
    if (wanted(state)) {
      if (!state.draft || !pixelsOf(body, state.draft.pixelUrl).length) insert(state, body);
      else if (lock(body, state.draft.pixelUrl)) Editor.changed(body); // after a Send that did not happen
    } else if (state.draft) {
      withdraw(state);
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
    const draft = state.draft;
    state.draft = null;
    const body = G.bodyOf(state.compose);
    if (!draft || !body) return false;
    let removed = false;
    for (const img of pixelsOf(body, draft.pixelUrl)) {
      const wrapper = img.closest(MARKER);
      (wrapper && body.contains(wrapper) ? wrapper : img).remove();
      removed = true;
    }
    if (removed) Editor.changed(body);
    return removed;
  }

  /** The token of the pixel in the draft, for the send path to register. */
  function tokenOf(state) {
    return state.draft ? state.draft.token : null;
  }

  globalThis.EngageDraftPixel = Object.freeze({ sync, withdraw, unlock, tokenOf });
})();
