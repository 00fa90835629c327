// The tracking toggle in each compose window's toolbar, and each compose window's
// state: "auto" (client_py decides from the recipients), "manual" (tracked by hand,
// so pinned) or "skip" (not tracked). One click flips what will happen to this email;
// a second click goes back to automatic. The label says what will happen and the
// tooltip says why (client_py's reason, said in the browser's language: _locales/).
//
// A classic script: defines `globalThis.EngageCompose`. Built with createElement and
// textContent only (Trusted Types).
(() => {
  "use strict";
  if (globalThis.EngageCompose) return;
  const G = globalThis.EngageGmail;
  const { MSG } = globalThis.EngageMessages;
  const { DRAFT_THREAD_PREFIX } = globalThis.EngageConfig;
  const link = globalThis.EngageContent;
  const { t } = globalThis.EngageI18n;

  const states = new WeakMap();
  const DECIDE_DELAY_MS = 200;
  const RETRY_MS = 2000;

  function stateOf(compose) {
    return states.get(compose) || attach(compose);
  }

  /** Whether the email will be tracked if sent now (null: not known yet). */
  function willTrack(state) {
    if (state.plain || !link.context.signedIn) return false;
    if (state.mode === "manual") return true;
    if (state.mode === "skip") return false;
    return state.decision ? Boolean(state.decision.applies) : null;
  }

  /** client_py's reason for its decision, in the browser's language when it has a code. */
  function reasonOf(decision) {
    switch (decision.code) {
      case "off": return t("reasonOff");
      case "no_recipients": return t("reasonNoRecipients");
      case "external": return decision.external === 1 ? t("reasonExternalOne") : t("reasonExternalMany", [decision.external]);
      case "blocklisted": return t("reasonBlocklisted");
      case "internal": return t("reasonInternal");
      default: return decision.reason || "";
    }
  }

  function describe(state) {
    if (!link.context.signedIn) {
      return { label: t("toggleSignIn"), on: false, title: t("toggleSignInTitle") };
    }
    if (state.plain) {
      return { label: t("togglePlain"), on: false, disabled: true, title: t("togglePlainTitle") };
    }
    if (state.mode === "manual") {
      return { label: t("togglePinned"), on: true, title: t("togglePinnedTitle") };
    }
    if (state.mode === "skip") {
      return { label: t("toggleSkipped"), on: false, title: t("toggleSkippedTitle") };
    }
    if (!state.decision) {
      return { label: t("toggleAuto"), on: false, title: t("toggleAutoTitle") };
    }
    const reason = reasonOf(state.decision);
    return state.decision.applies
      ? { label: t("toggleTracked"), on: true, title: t("toggleTrackedTitle", [reason]) }
      : { label: t("toggleNotTracked"), on: false, title: t("toggleNotTrackedTitle", [reason]) };
  }

  function render(state) {
    if (!state.button) return;
    const view = describe(state);
    state.label.textContent = view.label;
    state.button.title = view.title;
    state.button.setAttribute("aria-label", t("toggleAria", [view.label, view.title]));
    state.button.setAttribute("aria-pressed", view.on ? "true" : "false");
    state.button.setAttribute("aria-disabled", view.disabled ? "true" : "false");
    state.button.dataset.engageState = state.plain ? "plain" : state.mode;
    state.button.dataset.engageTracked = view.on ? "true" : "false";
    state.button.dataset.engageDecided = state.decision || state.plain ? "true" : "false";
    // The draft gets its pixel as soon as the email is known to be tracked (draft_pixel.js).
    if (globalThis.EngageDraftPixel) globalThis.EngageDraftPixel.sync(state);
  }

  function flip(state) {
    if (!link.context.signedIn) {
      link.tell(MSG.OPEN_OPTIONS);
      return;
    }
    if (state.plain) return;
    const auto = state.decision ? Boolean(state.decision.applies) : false;
    const next = !willTrack(state);
    state.mode = next === auto ? "auto" : next ? "manual" : "skip";
    render(state);
  }

  async function refreshDecision(state) {
    if (!state.compose.isConnected) return; // sent or discarded
    state.plain = G.isPlainText(state.compose);
    const recipients = G.recipientsOf(state.compose);
    const key = JSON.stringify(recipients);
    if (key !== state.recipientsKey && link.context.signedIn) {
      state.recipientsKey = key;
      try {
        const answer = await link.ask(MSG.DECIDE, { recipients }, 3000);
        if (state.recipientsKey === key) state.decision = answer.decision || null;
      } catch {
        // Shown as "auto" (the send path decides again anyway); ask again in a while,
        // e.g. when Python was still starting with the browser.
        state.decision = null;
        state.recipientsKey = null;
        clearTimeout(state.retry);
        state.retry = setTimeout(() => scheduleRefresh(state), RETRY_MS);
      }
    }
    render(state);
  }

  function scheduleRefresh(state) {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => refreshDecision(state), DECIDE_DELAY_MS);
  }

  function buildButton(state) {
    const button = document.createElement("div");
    button.className = "engage-toggle";
    button.setAttribute("role", "button");
    button.setAttribute("tabindex", "0");
    const dot = document.createElement("span");
    dot.className = "engage-toggle-dot";
    dot.setAttribute("aria-hidden", "true");
    const label = document.createElement("span");
    label.className = "engage-toggle-label";
    button.append(dot, label);
    button.addEventListener("click", (event) => {
      event.preventDefault();
      event.stopPropagation();
      flip(state);
    });
    button.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        event.stopPropagation();
        flip(state);
      }
    });
    state.button = button;
    state.label = label;
  }

  function place(state) {
    const spot = G.toolbarOf(state.compose);
    if (!spot) return false;
    if (spot.row.tagName === "TR") {
      const cell = document.createElement("td");
      cell.className = "engage-toggle-cell";
      cell.appendChild(state.button);
      spot.row.insertBefore(cell, spot.row.cells[1] || null); // right after Send
    } else {
      spot.row.insertBefore(state.button, spot.after ? spot.after.nextSibling : null);
    }
    return true;
  }

  function attach(compose) {
    const existing = states.get(compose);
    if (existing) return existing;
    const state = {
      compose,
      mode: "auto",
      decision: null,
      plain: false,
      recipientsKey: null,
      localId: crypto.randomUUID(),
      gesture: null,
      button: null,
      label: null,
      timer: null,
      retry: null,
    };
    states.set(compose, state);
    buildButton(state);
    place(state);
    globalThis.EngageComposeRemind?.attach(state); // "Remind me" beside it (compose_remind.js)
    render(state);
    const body = G.bodyOf(compose);
    // Recipients, the plain-text switch: anything but typing in the body.
    new MutationObserver((mutations) => {
      if (mutations.every((m) => body && body.contains(m.target))) return;
      if (mutations.every((m) => state.button && state.button.contains(m.target))) return;
      scheduleRefresh(state);
    }).observe(compose, { childList: true, subtree: true, attributes: true, attributeFilter: ["aria-checked", "value", "data-hovercard-id", "email"] });
    scheduleRefresh(state);
    return state;
  }

  /** Everything the worker needs to register this email, read at send time. */
  function snapshot(state) {
    const compose = state.compose;
    const draftId = G.draftIdOf(compose);
    return {
      recipients: G.recipientsOf(compose),
      subject: G.subjectOf(compose),
      threadId: G.threadIdOf(compose) || `${DRAFT_THREAD_PREFIX}${draftId || state.localId}`,
      draftId: draftId || state.localId,
      mode: state.mode,
      remind: state.remind || null, // a follow-up reminder to set once it is sent
    };
  }

  function refreshAll() {
    for (const body of G.bodies()) {
      const compose = G.composeOf(body);
      if (compose) {
        const state = attach(compose);
        state.recipientsKey = null; // the context changed: decide again
        scheduleRefresh(state);
      }
    }
  }

  globalThis.EngageCompose = { attach, stateOf, snapshot, willTrack, render, refreshAll, refreshDecision };
})();
