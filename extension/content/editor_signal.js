// Tells Gmail's editor that the extension changed a compose body.
//
// Gmail keeps its own copy of the body, saves it as a draft while the user writes and
// sends what it saved: a change made to the DOM alone is not sent
// (KartikTalwar/gmail.js #802, #170, #488). Its editor re-reads the body when it sees an
// editing event. InboxSDK follows every programmatic change to a compose with a
// simulated key event on the body (keydown, keypress, keyup; key code 190, char code
// 0) and does it a task later, because "if it's done synchronously [...] Gmail
// interprets the fake keypress and decides to add a '¾' character"
// (GmailComposeView._triggerDraftSave). So does this file: `changed(body)` after every
// edit (and every undo), `settled(body)` before Send goes through. `settled` resolves
// one more task after the key events, so an editor that reads the body a task after
// the event (as the Gmail-like test page does) has taken it.
//
// A classic script: defines `globalThis.EngageEditor`.
(() => {
  "use strict";
  if (globalThis.EngageEditor) return;

  const DRAFT_SAVE_KEY = 190; // InboxSDK's key: "." / "¾"
  const pending = new WeakMap(); // body -> promise of the announcement under way

  function nextTask() {
    return new Promise((resolve) => setTimeout(resolve, 0));
  }

  function keyEvents(body) {
    for (const type of ["keydown", "keypress", "keyup"]) {
      body.dispatchEvent(new KeyboardEvent(type, {
        bubbles: true, cancelable: true, composed: true, view: window,
        keyCode: DRAFT_SAVE_KEY, charCode: 0,
      }));
    }
  }

  /** Announce a change of `body` to Gmail's editor; resolves when it has taken it. */
  function changed(body) {
    if (!body) return Promise.resolve();
    const before = pending.get(body);
    const run = (async () => {
      if (before) await before;
      await nextTask(); // never in the task of the change (the '¾' above)
      if (body.isConnected) keyEvents(body);
      await nextTask(); // the editor reads the body a task after the event
    })();
    pending.set(body, run);
    run.finally(() => {
      if (pending.get(body) === run) pending.delete(body);
    });
    return run;
  }

  /** Resolves once every change announced for `body` was taken. */
  function settled(body) {
    return (body && pending.get(body)) || Promise.resolve();
  }

  globalThis.EngageEditor = Object.freeze({ changed, settled, DRAFT_SAVE_KEY });
})();
