// The send path. Catches Send (mouse, keyboard on the button) and Ctrl/Cmd+Enter in
// the capture phase at the window, before any Gmail handler; holds the email while the
// worker registers it and client_py plans the body (both warm: the offscreen document
// is already running), applies the plan with DOM calls, tells Gmail's editor about
// the change the way it notices typing (editor_signal.js: Gmail sends its own copy of
// the body, not the DOM), and once the editor has taken it clicks Send again for Gmail.
//
// It never blocks and never waits long: whatever goes wrong (signed out, server down
// or slow, extension reloaded, a plan that does not fit), the email is sent untouched
// once SEND_BUDGET_MS has passed since the press (the pixel draft_pixel.js put into the
// draft taken out again).
//
// With the draft's pixel already in place, Send registers the email with that pixel's
// token, checks it is the one pixel where client_py puts it (else client_py's plan
// moves or replaces it), and rewrites the links.
//
// Mouse presses: the hold starts at mousedown (a head start of the press's length),
// mousedown / mouseup / click are all swallowed, and Gmail gets its click sequence
// once both the plan is ready and the user's click happened.
//
// A classic script: defines `globalThis.EngageSendGuard`.
(() => {
  "use strict";
  if (globalThis.EngageSendGuard) return;
  const G = globalThis.EngageGmail;
  const Edit = globalThis.EngageBodyEdit;
  const Editor = globalThis.EngageEditor;
  const Compose = globalThis.EngageCompose;
  const Draft = globalThis.EngageDraftPixel;
  const link = globalThis.EngageContent;
  const { MSG } = globalThis.EngageMessages;
  const { SEND_BUDGET_MS } = globalThis.EngageConfig;

  let replaying = false; // our own click sequence for Gmail passes through
  const GESTURE_TIMEOUT_MS = 3000; // a press that never became a click (dragged off)

  function swallow(event) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  function timeLeft(gesture) {
    return SEND_BUDGET_MS - (performance.now() - gesture.startedAt);
  }

  /** Register + plan + edit; resolves to the outcome, never rejects, within the budget. */
  async function prepare(state, gesture) {
    const outcome = { applied: false, reason: "", messageId: null, threadId: null };
    const body = G.bodyOf(state.compose);
    try {
      if (!link.context.signedIn) throw Object.assign(new Error(), { code: "signed_out" });
      state.plain = G.isPlainText(state.compose);
      if (state.plain) throw Object.assign(new Error(), { code: "plain_text" });
      if (state.mode === "skip") throw Object.assign(new Error(), { code: "skipped" });
      if (!body) throw Object.assign(new Error(), { code: "no_body" });
      // The draft's pixel as client_py's snippet again (draft_pixel.js), announced.
      if (Draft.unlock(state)) Editor.changed(body);
      // The draft's pixel (draft_pixel.js), if it has one: registered with its token.
      const compose = { ...Compose.snapshot(state), body: body.innerHTML, pixelToken: Draft.tokenOf(state) };
      const budget = timeLeft(gesture);
      const reply = await link.ask(MSG.PREPARE_SEND, { compose, budgetMs: budget, sendId: gesture.sendId },
        Math.max(1, budget));
      gesture.marks.prepared = performance.now();
      outcome.messageId = reply.message ? reply.message.id : null;
      outcome.threadId = reply.message ? reply.message.thread_id : null;
      outcome.workerTimings = reply.timings || null;
      if (!reply.track) {
        outcome.reason = reply.reason || "not_tracked";
        return outcome;
      }
      if (gesture.outcome || timeLeft(gesture) <= 0) throw Object.assign(new Error(), { code: "late" });
      const applied = Edit.apply(body, reply.plan);
      // Every change to the body, and every undo, is announced to Gmail's editor (with
      // the draft's pixel in place and no link to rewrite, there is none).
      if (applied.changed) Editor.changed(body);
      const edit = { exact: applied.exact, undo: () => { applied.undo(); if (applied.changed) Editor.changed(body); } };
      gesture.marks.edited = performance.now();
      if (!edit.exact) {
        gesture.pendingUndo = edit.undo; // the deadline puts the body back if it comes first
        // The body changed while we waited (the user kept typing): check client_py's
        // rules on what is there now, or put it back as it was.
        const left = timeLeft(gesture);
        let check = { ok: false };
        if (left > 5) {
          try {
            check = await link.ask(MSG.VERIFY_BODY, {
              body: body.innerHTML,
              pixelUrl: reply.plan.pixel_url,
              trackedUrls: reply.plan.links.map((l) => l.href),
            }, left);
          } catch {
            check = { ok: false };
          }
        }
        gesture.pendingUndo = null;
        if (gesture.outcome) return gesture.outcome; // the deadline sent it (undone) already
        if (!check.ok) {
          edit.undo();
          outcome.reason = "verify_failed";
          return outcome;
        }
        outcome.verifiedAfterChange = true;
      }
      outcome.applied = true;
      outcome.reason = reply.mode || "tracked";
      outcome.undo = edit.undo; // a press dragged off Send puts the body back (abandon)
    } catch (error) {
      outcome.reason = error && error.code ? error.code : "error";
      if (!error || !error.code) console.warn("Engage: sending untracked:", error);
    }
    return outcome;
  }

  function replayClick(compose) {
    const button = G.sendButtonOf(compose);
    if (!button) return false;
    replaying = true;
    try {
      const init = { bubbles: true, cancelable: true, composed: true, view: window, button: 0, buttons: 1 };
      button.dispatchEvent(new MouseEvent("mousedown", init));
      button.dispatchEvent(new MouseEvent("mouseup", { ...init, buttons: 0 }));
      button.dispatchEvent(new MouseEvent("click", { ...init, buttons: 0 }));
    } finally {
      replaying = false;
    }
    return true;
  }

  function finish(state, gesture) {
    if (gesture.done || !gesture.released || !gesture.outcome) return;
    gesture.done = true;
    clearTimeout(gesture.expiry);
    // Gmail sends what its editor took: Send goes through once the editor has taken the
    // last change (or undo) announced for this body, a task or two from now.
    Editor.settled(G.bodyOf(state.compose)).then(() => send(state, gesture), () => send(state, gesture));
  }

  /**
   * A press that was not a Send: the links go back to the addresses the user wrote, the
   * draft's pixel stays (locked again, if the email is still tracked), and the worker
   * forgets the email it registered (the next Send registers it afresh, as written then).
   */
  function abandon(state, gesture) {
    if (gesture.done) return;
    gesture.done = true;
    clearTimeout(gesture.expiry);
    const o = gesture.outcome;
    if (o.undo) o.undo();
    link.tell(MSG.SEND_OUTCOME, {
      messageId: o.messageId, threadId: o.threadId, applied: false, abandoned: true, reason: "abandoned",
      sendId: gesture.sendId,
      trigger: gesture.trigger,
    });
    Draft.sync(state);
  }

  function send(state, gesture) {
    const sentAt = performance.now();
    state.gesture = null;
    replayClick(state.compose);
    const o = gesture.outcome;
    link.tell(MSG.SEND_OUTCOME, {
      messageId: o.messageId,
      threadId: o.threadId,
      applied: o.applied,
      reason: o.reason,
      noPixel: Boolean(o.noPixel),
      sendId: gesture.sendId,
      trigger: gesture.trigger,
      workerTimings: o.workerTimings,
      // What tracking cost the user: from the press, and from the release (the moment
      // Gmail would have started sending without us).
      holdFromPressMs: sentAt - gesture.startedAt,
      holdFromReleaseMs: sentAt - gesture.releasedAt,
      prepareMs: (gesture.marks.prepared || sentAt) - gesture.startedAt,
      editedMs: gesture.marks.edited ? gesture.marks.edited - gesture.startedAt : null,
    });
  }

  function start(compose, trigger, released) {
    const state = Compose.stateOf(compose);
    if (state.gesture) {
      if (released) release(state);
      return;
    }
    const gesture = {
      trigger,
      // Names this press to the worker, which may register the email after we stopped
      // waiting for it (the budget ran out): an outcome without its id still finds it.
      sendId: crypto.randomUUID(),
      startedAt: performance.now(),
      released: false,
      releasedAt: null,
      outcome: null,
      pendingUndo: null,
      done: false,
      marks: {},
    };
    state.gesture = gesture;
    gesture.expiry = setTimeout(() => {
      if (state.gesture !== gesture || gesture.released) return;
      // The press never became a click (dragged off Send): nothing is sent, so what the
      // press did is undone once prepare() has told what that was.
      state.gesture = null;
      gesture.abandoned = true;
      if (gesture.outcome) abandon(state, gesture);
    }, GESTURE_TIMEOUT_MS);
    const settle = (outcome) => {
      if (gesture.outcome) return;
      gesture.outcome = outcome;
      if (gesture.abandoned) {
        abandon(state, gesture);
        return;
      }
      // Going out untracked: the draft's pixel comes out too (announced; finish() waits
      // for Gmail's editor to take it), so the email is sent as the user wrote it.
      if (!outcome.applied) {
        Draft.withdraw(state);
        // Whether what goes out carries none of this account's pixels (the worker then
        // forgets the email it registered, which could never be opened).
        outcome.noPixel = Draft.tokenOf(state) === null;
      }
      finish(state, gesture);
    };
    // Hard stop: whatever prepare() is doing, the email goes when the budget is spent,
    // with any edit not yet verified taken out again.
    setTimeout(() => {
      if (gesture.outcome) return;
      if (gesture.pendingUndo) gesture.pendingUndo();
      settle({ applied: false, reason: "timeout" });
    }, SEND_BUDGET_MS);
    prepare(state, gesture).then(settle);
    if (released) release(state);
  }

  function release(state) {
    const gesture = state.gesture;
    if (!gesture || gesture.released) return;
    gesture.released = true;
    gesture.releasedAt = performance.now();
    finish(state, gesture);
  }

  function onMouse(event) {
    if (replaying) return;
    const button = G.sendButtonAt(event.target);
    if (!button) return;
    const compose = G.composeOf(button);
    if (!compose) return;
    if (event.type === "mousedown" && event.button !== 0) return;
    swallow(event);
    if (event.type === "mousedown") start(compose, "click", false);
    else if (event.type === "click") start(compose, "click", true);
    // mouseup: swallowed; the click that follows it releases the email.
  }

  function onKey(event) {
    if (replaying || event.key !== "Enter" && event.key !== " ") return;
    const target = event.target;
    const onSend = G.sendButtonAt(target);
    const shortcut = event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.altKey;
    if (!onSend && !shortcut) return;
    const compose = G.composeOf(onSend || target);
    if (!compose) return;
    if (shortcut && !onSend && !compose.contains(target)) return;
    swallow(event);
    if (event.type === "keydown" && !event.repeat) start(compose, shortcut ? "shortcut" : "keyboard", true);
  }

  for (const type of ["mousedown", "mouseup", "click"]) window.addEventListener(type, onMouse, true);
  window.addEventListener("keydown", onKey, true);
  window.addEventListener("keyup", (event) => {
    // Gmail's buttons act on key-up too: swallow the release of a caught key.
    if (replaying || (event.key !== "Enter" && event.key !== " ")) return;
    const onSend = G.sendButtonAt(event.target);
    if (onSend && G.composeOf(onSend)) swallow(event);
  }, true);

  globalThis.EngageSendGuard = Object.freeze({ replayClick });
})();
