// "Remind me" in the compose toolbar, beside the tracking toggle: a small menu (in 1 /
// 3 / 7 days, or on a date; if nobody opens, or if nobody replies). The choice travels
// with the email (Compose.snapshot's `remind`); once the server registered it, the
// worker sets the reminder on its thread (background/followup.js). Only tracked emails
// can have one: nobody's opens are seen on an untracked email.
//
// A classic script: defines `globalThis.EngageComposeRemind`. Built with createElement
// and textContent only (Trusted Types on Gmail's page).
(() => {
  "use strict";
  if (globalThis.EngageComposeRemind) return;
  const { t } = globalThis.EngageI18n;
  const DAYS = [1, 3, 7];
  const CONDITIONS = [["open", "remindIfOpen"], ["reply", "remindIfReply"]];

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    for (const child of children) node.append(child);
    return node;
  }

  function label(state) {
    const r = state.remind;
    if (!r) return "⏰";
    return r.date ? `⏰ ${t("remindChosenDate", [r.date])}` : `⏰ ${t("remindChosenDays", [r.days])}`;
  }

  function render(state) {
    const button = state.remindButton;
    if (!button) return;
    button.textContent = label(state);
    button.dataset.engageRemind = state.remind ? `${state.remind.condition}:${state.remind.days || state.remind.date}` : "";
    button.setAttribute("aria-pressed", state.remind ? "true" : "false");
    for (const item of state.remindMenu.querySelectorAll("[data-remind-key]")) {
      const key = state.remind ? `${state.remind.condition}:${state.remind.days || "date"}` : "none";
      item.setAttribute("aria-checked", String(item.dataset.remindKey === key));
    }
  }

  function choose(state, choice) {
    state.remind = choice;
    state.remindMenu.hidden = true;
    render(state);
  }

  function stop(event) {
    event.preventDefault();
    event.stopPropagation();
  }

  function buildMenu(state) {
    const menu = el("div", { class: "engage-remind-popup", role: "menu", hidden: "" });
    for (const [condition, key] of CONDITIONS) {
      const group = el("div", { class: "engage-remind-group", role: "group", "aria-label": t(key) },
        el("div", { class: "engage-remind-heading" }, t(key)));
      for (const days of DAYS) {
        const item = el("div", { class: "engage-remind-item", role: "menuitemradio", tabindex: "-1",
          "data-remind-key": `${condition}:${days}` }, days === 1 ? t("remindInOneDay") : t("remindInDays", [days]));
        item.addEventListener("click", (event) => { stop(event); choose(state, { condition, days }); });
        group.append(item);
      }
      const date = el("input", { type: "date", class: "engage-remind-dateinput", "aria-label": t("remindOnDate") });
      date.addEventListener("click", (event) => event.stopPropagation());
      date.addEventListener("change", () => { if (date.value) choose(state, { condition, date: date.value }); });
      group.append(el("label", { class: "engage-remind-item", "data-remind-key": `${condition}:date` },
        t("remindOnDate"), " ", date));
      menu.append(group);
    }
    const none = el("div", { class: "engage-remind-item", role: "menuitemradio", tabindex: "-1", "data-remind-key": "none" },
      t("remindNone"));
    none.addEventListener("click", (event) => { stop(event); choose(state, null); });
    menu.append(none);
    return menu;
  }

  /** Add the button and its menu right after the compose's tracking toggle. */
  function attach(state) {
    if (state.remindButton || !state.button || !state.button.parentNode) return;
    const button = el("div", { class: "engage-remind-button", role: "button", tabindex: "0", "aria-haspopup": "menu",
      title: t("remindMenuTitle"), "aria-label": t("remindMenu") });
    const menu = buildMenu(state);
    const wrap = el("span", { class: "engage-remind-wrap" }, button, menu);
    const toggle = () => { menu.hidden = !menu.hidden; };
    button.addEventListener("click", (event) => { stop(event); toggle(); });
    button.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { stop(event); toggle(); }
      if (event.key === "Escape") menu.hidden = true;
    });
    state.button.after(wrap);
    state.remindButton = button;
    state.remindMenu = menu;
    state.remind = null;
    render(state);
  }

  globalThis.EngageComposeRemind = Object.freeze({ attach, render });
})();
