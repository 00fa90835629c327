// The extension's words in the browser's language, through chrome.i18n (_locales/:
// en, de, fr, es; English for any other language, manifest default_locale). A classic
// script, like shared/messages.js, defining `globalThis.EngageI18n`; content scripts
// and extension pages load it alike.
//
// Pages mark what to translate: data-i18n (text), data-i18n-placeholder,
// data-i18n-title, data-i18n-aria-label, each naming a message of _locales/*/messages.json.
(() => {
  "use strict";
  if (globalThis.EngageI18n) return;

  /** The message `key` with `substitutions` ($1, $2, ...); the key itself if unknown. */
  function t(key, substitutions = []) {
    let text = "";
    try {
      text = chrome.i18n.getMessage(key, substitutions.map(String));
    } catch {
      text = ""; // the extension went away under a content script
    }
    return text || key;
  }

  /** The browser's display language, e.g. "de" or "fr-FR" (what the panel is rendered in). */
  function uiLanguage() {
    try {
      return chrome.i18n.getUILanguage() || "en";
    } catch {
      return "en";
    }
  }

  const ATTRIBUTES = { "data-i18n-placeholder": "placeholder", "data-i18n-title": "title", "data-i18n-aria-label": "aria-label" };

  /** Translate an extension page (never used on Gmail's page). */
  function localizePage(root = document) {
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const [marker, attribute] of Object.entries(ATTRIBUTES)) {
      for (const el of root.querySelectorAll(`[${marker}]`)) el.setAttribute(attribute, t(el.getAttribute(marker)));
    }
    if (root.documentElement) root.documentElement.lang = uiLanguage();
  }

  globalThis.EngageI18n = Object.freeze({ t, uiLanguage, localizePage });
})();
