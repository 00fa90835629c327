// A Gmail stand-in for the extension's tests. What it reproduces, because the
// extension depends on it:
//  - compose windows: the pop-up (div[role=dialog]) and the inline reply / forward
//    (div.M9 inside the conversation), several at once; recipient chips
//    (div.afV[data-hovercard-id][data-name]) made from what is typed in the To / Cc /
//    Bcc inputs; input[name=subjectbox]; hidden input[name=composeid] and
//    input[name=draft] ("undefined" until the first autosave, like Gmail); the body,
//    div.Am.editable[contenteditable][aria-label="Message Body"][g_editable]; the
//    signature (.gmail_signature) and quoted text (.gmail_quote_container); the
//    toolbar row tr.btC with the Send button div.T-I.aoO[role=button] and a "More
//    options" menu holding "Plain text mode".
//  - Send acts like Gmail's buttons (closure CustomButton): on mouseup after a mousedown
//    on the button, or Enter on the focused button; Ctrl/Cmd+Enter anywhere in the
//    compose. What "Gmail sends" is recorded in window.fakeGmail.sent and POSTed to
//    /_fake/sent.
//  - Gmail's editor (the default, `?editor=draft`): Gmail keeps its own copy of the
//    body and saves it as a draft while the user writes; on Send it sends what it saved,
//    not what the DOM holds now (KartikTalwar/gmail.js #802: "the email contents is
//    constantly passed off to the gmail-servers as the user authors it, and when you
//    click Send gmail just instructs to save the message already uploaded"; #170: "I can
//    change the compose DOM, but when sending, the change has no effect"). The copy is
//    re-read only after an editing event the editor listens to (key events, input,
//    paste, cut, drop, composition end), a task later, as an editor that batches
//    changes does; a DOM change with no such event is never sent. A synthetic
//    keypress that arrives in the same task as a DOM change the editor has not seen
//    yet is taken for typing: its key code goes into the body as a character (InboxSDK
//    sends its draft-save key event a task later because "if it's done synchronously
//    [...] Gmail interprets the fake keypress and decides to add a '¾'
//    character", GmailComposeView._triggerDraftSave). Drafts are saved DRAFT_SAVE_MS
//    after the last change the editor noticed (window.fakeGmail.drafts).
//  - `?editor=dom`: the kindest Gmail, which reads the body's innerHTML at Send.
//  - Gmail's UI language (`?hl=xx`, else the browser's language): every label,
//    aria-label and tooltip is translated (en, de, fr, es); classes, roles and form
//    field names (subjectbox, composeid, g_editable) are not, as in Gmail.
//  - the conversation view: h2.hP[data-legacy-thread-id], messages in div.a3s, with
//    every image shown through "https://ci3.googleusercontent.com/meips/<id>#<original>",
//    as Gmail's image proxy does.
//  - thread lists (Inbox, Sent, labels, searches) as Gmail draws them: tr.zA[role=row]
//    in table.F[role=grid], both ids on the subject's span, virtualised (only the rows
//    in view exist, rebuilt on every scroll and by fakeGmail.rerender()); the "Message
//    sent" toast with span#link_vsm[param] (the sent message's id).
//  - Trusted Types: the page is served with require-trusted-types-for 'script' and
//    builds HTML only through its own policy "gmail-fake", so any other innerHTML
//    assignment on this page throws.
(() => {
  "use strict";
  const policy = trustedTypes.createPolicy("gmail-fake", { createHTML: (s) => s });
  const ME = { name: "Ann Seller", address: "ann@acme.example" };
  const SIGNATURE = '<br clear="all"><div><br></div><span class="gmail_signature_prefix">-- </span><br>'
    + '<div dir="ltr" class="gmail_signature" data-smartmail="gmail_signature"><div dir="ltr">'
    + 'Ann Seller | Acme<br><a href="https://acme.example/" target="_blank">acme.example</a></div></div>';
  const PROXY = "https://ci3.googleusercontent.com/meips/";
  const PARAMS = new URLSearchParams(location.search);
  const EDITOR = PARAMS.get("editor") === "dom" ? "dom" : "draft";
  const DRAFT_SAVE_MS = 300; // Gmail waits a few seconds; shorter here so tests see drafts

  // Gmail's labels in the languages the tests use (Gmail's own wording).
  const LABELS = {
    en: { compose: "Compose", inbox: "Inbox", sent: "Sent", newMessage: "New Message", to: "To", cc: "Cc",
      bcc: "Bcc", recipients: (f) => `${f} recipients`, subject: "Subject", body: "Message Body", send: "Send",
      sendTip: "Send \u202a(Ctrl-Enter)\u202c", more: "More options", plain: "Plain text mode",
      reply: "Reply", forward: "Forward", sentToast: "Message sent", viewMessage: "View message", undo: "Undo", wrote: (d, f) => `On ${d} ${f} wrote:`,
      fwd: "Forwarded message", from: "From", date: "Date" },
    de: { compose: "Schreiben", inbox: "Posteingang", sent: "Gesendet", newMessage: "Neue Nachricht", to: "An",
      cc: "Cc", bcc: "Bcc", recipients: (f) => `${f}-Empf\u00e4nger`, subject: "Betreff", body: "Nachrichtentext",
      send: "Senden", sendTip: "Senden \u202a(Strg-Eingabetaste)\u202c", more: "Weitere Optionen",
      plain: "Nur-Text-Modus", reply: "Antworten", forward: "Weiterleiten", sentToast: "Nachricht gesendet", viewMessage: "Nachricht ansehen", undo: "Rückgängig machen",
      wrote: (d, f) => `Am ${d} schrieb ${f}:`, fwd: "Weitergeleitete Nachricht", from: "Von", date: "Datum",
 },
    fr: { compose: "Nouveau message", inbox: "Bo\u00eete de r\u00e9ception", sent: "Messages envoy\u00e9s",
      newMessage: "Nouveau message", to: "\u00c0", cc: "Cc", bcc: "Cci", recipients: (f) => `Destinataires (${f})`,
      subject: "Objet", body: "Corps du message", send: "Envoyer", sendTip: "Envoyer \u202a(Ctrl+Entr\u00e9e)\u202c",
      more: "Plus d'options", plain: "Mode texte brut", reply: "R\u00e9pondre", forward: "Transf\u00e9rer",
      sentToast: "Message envoy\u00e9", viewMessage: "Afficher le message", undo: "Annuler", wrote: (d, f) => `Le ${d}, ${f} a \u00e9crit\u00a0:`,
      fwd: "Message transf\u00e9r\u00e9", from: "De", date: "Date" },
    es: { compose: "Redactar", inbox: "Recibidos", sent: "Enviados", newMessage: "Mensaje nuevo", to: "Para",
      cc: "CC", bcc: "CCO", recipients: (f) => `Destinatarios (${f})`, subject: "Asunto", body: "Cuerpo del mensaje",
      send: "Enviar", sendTip: "Enviar \u202a(Ctrl-Intro)\u202c", more: "M\u00e1s opciones",
      plain: "Modo de texto sin formato", reply: "Responder", forward: "Reenviar", sentToast: "Mensaje enviado", viewMessage: "Ver mensaje", undo: "Deshacer",
      wrote: (d, f) => `El ${d}, ${f} escribi\u00f3:`, fwd: "Mensaje reenviado", from: "De", date: "Fecha" },
    // Two languages Engage itself does not speak (its own words fall back to English):
    // Gmail's words still have to be read, the plain-text item's above all.
    ja: { compose: "作成", inbox: "受信トレイ", sent: "送信済み", newMessage: "新規メッセージ", to: "宛先", cc: "Cc",
      bcc: "Bcc", recipients: (f) => `${f} の受信者`, subject: "件名", body: "メッセージ本文", send: "送信",
      sendTip: "送信 \u202a(Ctrl-Enter)\u202c", more: "その他のオプション", plain: "プレーン テキスト モード",
      reply: "返信", forward: "転送", sentToast: "メッセージを送信しました。", viewMessage: "メッセージを表示", undo: "元に戻す",
      wrote: (d, f) => `${d} ${f} のメッセージ:`, fwd: "転送されたメッセージ", from: "From", date: "Date" },
    pl: { compose: "Utwórz", inbox: "Odebrane", sent: "Wysłane", newMessage: "Nowa wiadomość", to: "Do", cc: "DW",
      bcc: "UDW", recipients: (f) => `Odbiorcy (${f})`, subject: "Temat", body: "Treść wiadomości", send: "Wyślij",
      sendTip: "Wyślij \u202a(Ctrl-Enter)\u202c", more: "Więcej opcji", plain: "Tryb zwykłego tekstu",
      reply: "Odpowiedz", forward: "Przekaż dalej", sentToast: "Wiadomość wysłana", viewMessage: "Wyświetl wiadomość",
      undo: "Cofnij", wrote: (d, f) => `${d} ${f} napisał(a):`, fwd: "Wiadomość przekazana dalej", from: "Od",
      date: "Data" },
  };
  const LANG = ((PARAMS.get("hl") || navigator.language || "en").toLowerCase().split("-")[0]);
  const T = LABELS[LANG] || LABELS.en;
  document.documentElement.lang = LABELS[LANG] ? LANG : "en";

  const state = { threads: new Map(), composes: new Map(), sent: [], drafts: [], nextCompose: 1 };
  // Compose ids unique across page loads: the tests' HTTP server sees every page's sends.
  const PAGE = Math.random().toString(36).slice(2, 8);
  const $main = document.getElementById("main");
  const $dock = document.getElementById("compose-dock");

  function hex16() {
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    bytes[0] = 0x18; // Gmail's ids of this decade start with 18/19
    return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    for (const child of children) node.append(child);
    return node;
  }

  function setHtml(node, html) {
    node.innerHTML = policy.createHTML(html);
  }

  function escapeHtml(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function b64url(text) {
    return btoa(unescape(encodeURIComponent(text))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  /** Message HTML as Gmail shows it: parsed inert, images moved behind the proxy. */
  function shownNodes(html) {
    const doc = new DOMParser().parseFromString(policy.createHTML(`<body>${html}</body>`), "text/html");
    for (const img of doc.querySelectorAll("img[src]")) {
      const src = img.getAttribute("src");
      if (/^https?:\/\//i.test(src) && !src.startsWith(PROXY)) {
        img.setAttribute("src", `${PROXY}${b64url(src)}=s0-d-e1-ft#${src}`);
      }
    }
    return [...doc.body.childNodes].map((n) => document.importNode(n, true));
  }

  // -- threads -----------------------------------------------------------------------
  function addThread(id, subject, messages) {
    state.threads.set(id, { id, subject, messages });
  }

  addThread("18c2f0a1b2c3d4e5", "Pricing for Q3", [{
    id: "18c2f0a1b2c3d4e5",
    from: { name: "Rae Prospect", address: "rae@prospect.example" },
    to: [ME],
    date: "Mon, Mar 3, 2025 at 9:30 AM",
    html: '<div dir="ltr">Hi Ann,<div><br></div><div>Could you send pricing for Q3? The details are on '
      + '<a href="https://prospect.example/rfp">our RFP page</a>.</div><div><br></div><div>Rae</div></div>',
  }]);
  addThread("18c2f0a1b2c3d4e6", "Team offsite", [{
    id: "18c2f0a1b2c3d4e6",
    from: { name: "Bob Builder", address: "bob@acme.example" },
    to: [ME],
    date: "Tue, Mar 4, 2025 at 10:00 AM",
    html: '<div dir="ltr">Who is coming on Friday?</div>',
  }]);

  // -- the thread list: Gmail's markup, virtualised ----------------------------------
  // Rows as Gmail draws them: tr.zA[role=row] in table.F[role=grid]; the subject cell
  // holds span[data-thread-id="#thread-f:<decimal>"][data-legacy-thread-id=<hex>]
  // (the same id twice; the hex one is what URLs use). Only the rows in view (and a
  // few more) are in the DOM, and every scroll builds them anew, as Gmail's list does.
  const ROW_H = 40;
  const OVERSCAN = 5;
  const list = { label: "inbox", first: -1, renders: 0 };

  function listed(label) {
    const all = [...state.threads.values()];
    if (label === "sent") return all.filter((t) => t.messages.some((m) => m.from.address === ME.address));
    if (label === "inbox") return all.filter((t) => t.messages.some((m) => m.from.address !== ME.address));
    return all; // labels and searches: everything (the double does not filter)
  }

  function rowOf(t, index) {
    const last = t.messages[t.messages.length - 1];
    const who = last.from.address === ME.address ? (last.to[0] || ME) : last.from;
    const subjectAttrs = t.noId ? {} : {
      "data-thread-id": `#thread-f:${BigInt(`0x${t.id}`).toString()}`,
      "data-legacy-thread-id": t.id,
    };
    const row = el("tr", { class: `zA ${index % 2 ? "yO" : "zE"}`, role: "row", tabindex: "-1",
      id: `:r${list.renders}-${index}`, "data-test-row": String(index) },
    el("td", { class: "oZ-x3 xY", role: "gridcell" }, el("div", { class: "oZ-jc T-Jo", role: "checkbox" })),
    el("td", { class: "yX xY", role: "gridcell" }, el("div", { class: "yW" },
      el("span", { class: "bA4" }, el("span", { class: "zF", email: who.address || "", name: who.name || "" },
        who.name || who.address || "")))),
    el("td", { class: "xY a4W", role: "gridcell" }, el("div", { class: "xS", role: "link" },
      el("div", { class: "xT" },
        el("div", { class: "y6" }, el("span", { class: "bog" }, el("span", subjectAttrs, t.subject))),
        el("span", { class: "y2" }, ` - ${t.snippet || ""}`)))),
    el("td", { class: "xW xY", role: "gridcell" }, el("span", { title: last.date || "" }, last.date || "")));
    row.addEventListener("click", () => { if (!t.noId) location.hash = `#${list.label}/${t.id}`; });
    return row;
  }

  function drawRows(force = false) {
    const box = $main.querySelector(".Cp");
    if (!box) return;
    const threads = listed(list.label);
    const first = Math.max(0, Math.floor(box.scrollTop / ROW_H) - OVERSCAN);
    if (first === list.first && !force) return;
    list.first = first;
    list.renders += 1;
    const count = Math.ceil(box.clientHeight / ROW_H) + 2 * OVERSCAN;
    const rows = threads.slice(first, first + count).map((t, i) => rowOf(t, first + i));
    const table = box.querySelector("table.F");
    table.style.transform = `translateY(${first * ROW_H}px)`;
    table.tBodies[0].replaceChildren(...rows);
  }

  function showList(label) {
    list.label = label;
    list.first = -1;
    const threads = listed(label);
    const table = el("table", { class: "F cf zt", role: "grid" }, el("tbody"));
    const spacer = el("div", { class: "engage-test-spacer" });
    spacer.style.height = `${threads.length * ROW_H}px`;
    const box = el("div", { class: "Cp" }, spacer, table);
    box.addEventListener("scroll", () => drawRows());
    $main.replaceChildren(el("div", { class: "ae4 UI", gh: "tl" }, box));
    drawRows(true);
  }

  function showThread(id) {
    const thread = state.threads.get(id);
    const container = el("div", { class: "nH if", "data-thread": id });
    const perm = `thread-f:${BigInt(`0x${id}`).toString()}`;
    container.append(el("h2", { class: "hP", "data-legacy-thread-id": id, "data-thread-perm-id": perm },
      thread.subject));
    for (const message of thread.messages) {
      const body = el("div", { class: "a3s aiL" });
      body.append(...shownNodes(message.html));
      container.append(el("div", {
        class: "adn ads",
        "data-message-id": `#msg-f:${BigInt(`0x${message.id}`).toString()}`,
        "data-legacy-message-id": message.id,
      }, el("div", { class: "gE iv gt" },
        el("span", { class: "gD", email: message.from.address, name: message.from.name }, message.from.name),
        el("div", { class: "gH" }, el("span", { class: "g3", title: message.date || "" }, message.date || ""))),
      body));
    }
    const reply = el("span", { class: "ams bkH", role: "link", tabindex: "0" }, T.reply);
    const forward = el("span", { class: "ams bkG", role: "link", tabindex: "0" }, T.forward);
    reply.addEventListener("click", () => openReply(id, "reply"));
    forward.addEventListener("click", () => openReply(id, "forward"));
    container.append(el("div", { class: "amn" }, reply, " ", forward));
    $main.replaceChildren(container);
    document.title = `${thread.subject} - ${ME.address} - Gmail (test double)`;
  }

  function route() {
    const [label, id] = location.hash.replace(/^#/, "").split("?")[0].split("/");
    const shown = $main.querySelector(".nH.if");
    if (id && shown && shown.dataset.thread === id) return; // already there (a reply may be open)
    if (id && state.threads.has(id)) showThread(id);
    else showList(label || "inbox");
  }

  // -- compose -----------------------------------------------------------------------
  function parseAddress(text) {
    const m = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(text);
    return m ? { name: m[1].trim(), address: m[2].trim() } : { name: "", address: text.trim() };
  }

  function chip({ name, address }) {
    const node = el("div", { class: "afV", "data-hovercard-id": address, "data-name": name || address },
      el("div", { class: "akl" }, name || address));
    return node;
  }

  function recipientRow(field, people) {
    const input = el("input", { class: "agP aFw", "aria-label": T.recipients(T[field]), type: "text" });
    const row = el("div", { class: `aoD hl ${field}`, name: field }, el("span", { class: "label" }, T[field]));
    const commit = () => {
      const parts = input.value.split(/[,;]/).map((s) => s.trim()).filter(Boolean);
      input.value = "";
      for (const part of parts) row.insertBefore(chip(parseAddress(part)), input);
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === "," || event.key === ";" || event.key === "Tab") {
        if (input.value.trim()) {
          event.preventDefault();
          commit();
        }
      }
    });
    input.addEventListener("blur", commit);
    for (const person of people) row.append(chip(person));
    row.append(input);
    return row;
  }

  function chipsOf(root, field) {
    return [...root.querySelectorAll(`[name="${field}"] .afV`)].map((c) => ({
      name: c.getAttribute("data-name"), address: c.getAttribute("data-hovercard-id"),
    }));
  }

  // -- Gmail's editor ----------------------------------------------------------------
  // What the editor listens to on the body. A change that comes with none of these is
  // invisible to it.
  const EDITING_EVENTS = ["keydown", "keypress", "keyup", "input", "paste", "cut", "drop", "compositionend"];

  /** A synthetic keypress taken for typing: its key code as a character at the caret. */
  function strayCharacter(body, code) {
    if (!code) return;
    const text = document.createTextNode(String.fromCharCode(code));
    const selection = document.getSelection();
    const range = selection && selection.rangeCount ? selection.getRangeAt(0) : null;
    if (range && body.contains(range.startContainer)) range.insertNode(text);
    else (body.firstElementChild || body).append(text);
  }

  function makeEditor(composeId, body) {
    const editor = { copy: body.innerHTML, pending: false, saveTimer: null, strays: 0, noticed: 0 };
    // Records pending here are DOM changes made in the current task that the editor
    // has not seen (the callback empties them at the end of every task).
    const unseen = new MutationObserver(() => {});
    unseen.observe(body, { childList: true, subtree: true, characterData: true, attributes: true });
    const saveDraft = () => {
      editor.saveTimer = null;
      state.drafts.push({ composeId, html: editor.copy, savedAt: Date.now() });
    };
    /** Read the body into the editor's copy (after a noticed event, or Gmail's own change). */
    editor.take = () => {
      unseen.takeRecords();
      if (body.innerHTML === editor.copy) return;
      editor.copy = body.innerHTML;
      clearTimeout(editor.saveTimer);
      editor.saveTimer = setTimeout(saveDraft, DRAFT_SAVE_MS);
    };
    const notice = (event) => {
      if (event.type === "keypress" && !event.isTrusted && unseen.takeRecords().length) {
        editor.strays += 1;
        strayCharacter(body, event.charCode || event.keyCode);
      }
      editor.noticed += 1;
      if (editor.pending) return;
      editor.pending = true;
      setTimeout(() => {
        editor.pending = false;
        editor.take();
      }, 0);
    };
    for (const type of EDITING_EVENTS) body.addEventListener(type, notice);
    return editor;
  }

  function buildCompose(id, { to = [], cc = [], bcc = [], subject = "", bodyHtml, inline = false }) {
    const root = inline
      ? el("div", { class: "M9", "data-test-compose": id })
      : el("div", { class: "nH Hd", role: "dialog", "aria-label": subject || T.newMessage, "data-test-compose": id });
    if (!inline) root.append(el("div", { class: "aYF" }, subject || T.newMessage));
    const draft = el("input", { type: "hidden", name: "draft", value: "undefined" });
    const form = el("form", { class: "bAs", method: "POST", enctype: "multipart/form-data" },
      el("input", { type: "hidden", name: "composeid", value: `c${Date.now()}${id}` }),
      draft,
      recipientRow("to", to), recipientRow("cc", cc), recipientRow("bcc", bcc),
      el("input", { class: "aoT", name: "subjectbox", placeholder: T.subject, "aria-label": T.subject, value: subject }));
    form.addEventListener("submit", (e) => e.preventDefault());
    const body = el("div", {
      class: "Am Al editable LW-avf tS-tW", id: `:${id}b`, contenteditable: "true", role: "textbox",
      "aria-label": T.body, "aria-multiline": "true", g_editable: "true", tabindex: "1",
    });
    setHtml(body, bodyHtml);
    const editor = makeEditor(id, body);
    const send = el("div", {
      class: "T-I J-J5-Ji aoO v7 T-I-atl L3", role: "button", tabindex: "1",
      "data-tooltip": T.sendTip, "aria-label": T.sendTip,
    }, T.send);
    const plainItem = el("div", { role: "menuitemcheckbox", "aria-checked": "false", class: "J-N" }, T.plain);
    const menu = el("div", { role: "menu", hidden: "" }, plainItem);
    const more = el("div", { class: "J-JN-M-I", role: "button", "aria-label": T.more, "data-tooltip": T.more }, "\u22ee");
    more.addEventListener("click", () => { menu.hidden = !menu.hidden; });
    plainItem.addEventListener("click", () => {
      const on = plainItem.getAttribute("aria-checked") !== "true";
      plainItem.setAttribute("aria-checked", String(on));
      if (on) {
        body.textContent = body.innerText; // formatting goes, as in Gmail
        editor.take();
      }
      menu.hidden = true;
    });
    const row = el("tr", { class: "btC" },
      el("td", { class: "gU Up" }, el("div", { class: "dC" }, send)),
      el("td", { class: "gU" }, more, menu));
    root.append(form, body, el("table", { class: "IZ", role: "presentation" }, el("tbody", {}, row)));

    // Gmail's buttons: act on mouseup after a mousedown on them.
    let armed = false;
    send.addEventListener("mousedown", (event) => { if (event.button === 0) armed = true; });
    send.addEventListener("mouseup", () => { if (armed) { armed = false; sendCompose(id, "button"); } });
    send.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sendCompose(id, "button-key"); }
    });
    root.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); sendCompose(id, "shortcut"); }
    });
    // Gmail saves a draft soon after opening: then the draft id is known.
    setTimeout(() => draft.setAttribute("value", `#msg-a:r-${Math.floor(Math.random() * 1e15)}`), 500);
    return { root, body, editor };
  }

  function openCompose(options = {}) {
    const id = `c${PAGE}-${state.nextCompose++}`;
    const bodyHtml = options.bodyHtml ?? `<div dir="ltr">${escapeHtml(options.text || "")}<br></div>${SIGNATURE}`;
    const { root, body, editor } = buildCompose(id, { ...options, bodyHtml, inline: false });
    $dock.append(root);
    state.composes.set(id, { id, root, body, editor, kind: "new", threadId: null });
    return id;
  }

  function quoteOf(thread, kind) {
    const last = thread.messages[thread.messages.length - 1];
    const from = `${escapeHtml(last.from.name)} &lt;<a href="mailto:${last.from.address}">${last.from.address}</a>&gt;`;
    if (kind === "forward") {
      return '<div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">'
        + `---------- ${T.fwd} ---------<br>${T.from}: ${from}<br>${T.date}: ${last.date}<br>`
        + `${T.subject}: ${escapeHtml(thread.subject)}<br>${T.to}: ${escapeHtml(ME.name)} &lt;${ME.address}&gt;<br></div><br><br>`
        + `${last.html}</div>`;
    }
    return `<div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">${T.wrote(last.date, from)}<br></div>`
      + '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">'
      + `${last.html}</blockquote></div>`;
  }

  function openReply(threadId, kind = "reply", text = "") {
    if (location.hash.split("/")[1] !== threadId) {
      location.hash = `#inbox/${threadId}`;
      showThread(threadId);
    }
    const thread = state.threads.get(threadId);
    const last = thread.messages[thread.messages.length - 1];
    const to = kind === "forward" ? [] : last.from.address === ME.address ? last.to : [last.from];
    const id = `c${PAGE}-${state.nextCompose++}`;
    const bodyHtml = `<div dir="ltr">${escapeHtml(text)}<br></div><br>${quoteOf(thread, kind)}`;
    const subject = `${kind === "forward" ? "Fwd" : "Re"}: ${thread.subject}`;
    const { root, body, editor } = buildCompose(id, { to, subject, bodyHtml, inline: true });
    $main.querySelector(".nH.if").append(root);
    state.composes.set(id, { id, root, body, editor, kind, threadId });
    return id;
  }

  function sendCompose(id, how) {
    const compose = state.composes.get(id);
    if (!compose || compose.sent) return;
    compose.sent = true;
    const { root, body, editor } = compose;
    const plain = root.querySelector('[role="menuitemcheckbox"]').getAttribute("aria-checked") === "true";
    const record = {
      composeId: id,
      kind: compose.kind,
      how,
      to: chipsOf(root, "to"),
      cc: chipsOf(root, "cc"),
      bcc: chipsOf(root, "bcc"),
      subject: root.querySelector('input[name="subjectbox"]').value,
      // Gmail's editor sends its saved copy; the kind double reads the DOM now.
      html: EDITOR === "dom" ? body.innerHTML : editor.copy,
      editor: EDITOR,
      dom: body.innerHTML,
      strays: editor.strays,
      plain,
      threadId: compose.threadId || hex16(),
      sentAt: Date.now(),
    };
    state.sent.push(record);
    fetch("/_fake/sent", { method: "POST", body: JSON.stringify(record), keepalive: true });
    const thread = state.threads.get(record.threadId);
    const message = { id: thread ? hex16() : record.threadId, from: ME, to: record.to, date: "now", html: record.html };
    if (thread) thread.messages.push(message);
    else addThread(record.threadId, record.subject, [message]);
    root.remove();
    state.composes.delete(id);
    // Gmail's toast, drawn anew: "Message sent · Undo · View message", the last a
    // span#link_vsm whose `param` is the sent message's id (for a new email also its
    // thread's: a conversation is named after its first message).
    const toast = document.getElementById("toast");
    const view = el("span", { class: "ag a8k", id: "link_vsm", role: "link", tabindex: "0", param: message.id },
      T.viewMessage);
    view.addEventListener("click", () => { location.hash = `#sent/${record.threadId}`; });
    toast.replaceChildren(`${T.sentToast} `, el("span", { id: "link_undo", role: "link" }, T.undo), " ", view);
    toast.hidden = false;
    setTimeout(() => { toast.hidden = true; }, 1500);
  }

  const composeButton = document.querySelector('[gh="cm"]');
  composeButton.textContent = T.compose;
  document.querySelector('a[href="#inbox"]').textContent = T.inbox;
  document.querySelector('a[href="#sent"]').textContent = T.sent;
  document.getElementById("toast").textContent = T.sentToast;
  composeButton.addEventListener("click", () => openCompose());
  window.addEventListener("hashchange", route);
  route();

  // The tests' handle on the page (main world).
  window.fakeGmail = {
    me: ME,
    signature: SIGNATURE,
    compose: openCompose,
    reply: (threadId, text) => openReply(threadId, "reply", text),
    forward: (threadId, text) => openReply(threadId, "forward", text),
    editor: EDITOR,
    lang: LABELS[LANG] ? LANG : "en",
    // Gmail itself filling a body (as when it opens a draft): its editor knows.
    setBody: (id, html) => {
      const compose = state.composes.get(id);
      setHtml(compose.body, html);
      compose.editor.take();
    },
    body: (id) => state.composes.get(id)?.body.innerHTML ?? null,
    saved: (id) => state.composes.get(id)?.editor.copy ?? null,
    noticed: (id) => state.composes.get(id)?.editor.noticed ?? null,
    drafts: (id) => state.drafts.filter((d) => d.composeId === id).map((d) => d.html),
    openComposes: () => [...state.composes.keys()],
    sent: state.sent,
    threads: () => [...state.threads.values()].map((t) => ({ id: t.id, subject: t.subject, count: t.messages.length })),
    show: (hash) => { location.hash = hash; route(); },
    // A message from someone else arrives in a conversation; Gmail adds it to the
    // conversation if it is open. Its id carries its time, as Gmail's ids do (the top
    // 44 bits are milliseconds since 1970, the rest a counter).
    receive: (threadId, from, html) => {
      const thread = state.threads.get(threadId);
      const counter = crypto.getRandomValues(new Uint32Array(1))[0] & 0xfffff;
      const id = ((BigInt(Date.now()) << 20n) | BigInt(counter)).toString(16).padStart(16, "0");
      thread.messages.push({ id, from, to: [ME], date: "now", html });
      if ($main.querySelector(".nH.if")?.dataset.thread === threadId) showThread(threadId);
      return id;
    },
    // Threads for the list: [{id, subject, sent: true|false, html, to, noId}] ("sent":
    // the last message is Ann's, with `html` as its body; else one from a prospect).
    addThreads: (threads) => {
      for (const t of threads) {
        const other = { name: t.name || "Rae Prospect", address: t.address || "rae@prospect.example" };
        const messages = (t.messages || [{ html: t.html || "<div>Hello</div>", sent: t.sent }]).map((m, i) => ({
          id: i ? hex16() : t.id,
          from: m.sent ? ME : other,
          to: m.sent ? [other] : [ME],
          date: m.date || "Mar 3",
          html: m.html || "<div>Hello</div>",
        }));
        state.threads.set(t.id, { id: t.id, subject: t.subject, snippet: t.snippet || "", noId: Boolean(t.noId),
          messages });
      }
      const [label, open] = location.hash.replace(/^#/, "").split("/");
      if (!open) showList(label || "inbox");
    },
    hex16,
    forget: (id) => state.threads.delete(id),
    // Gmail drawing the rows in view again (a new message arrived, a label changed).
    rerender: () => drawRows(true),
    // Scroll the list and draw at once (as the scroll event would, a moment later).
    scrollList: (top) => {
      const box = $main.querySelector(".Cp");
      box.scrollTop = top;
      drawRows();
      return box.scrollTop;
    },
    listRenders: () => list.renders,
    rowHeight: ROW_H,
  };
  document.documentElement.dataset.fakeGmailReady = "true";
})();
