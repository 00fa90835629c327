// Every Gmail selector the extension uses, in one place, each with fallbacks.
//
// Gmail's markup is obfuscated and changes without notice, so each thing is found by a
// list of selectors tried in order: first the one that matches today's Gmail, then
// ones that rely on more stable facts (ARIA roles, form field names, attributes Gmail
// has kept for years), last a structural guess. Gmail translates every label,
// aria-label and tooltip into the user's language ("Nachrichtentext", "Senden",
// "Nur-Text-Modus") but not its classes, roles and form field names (subjectbox,
// composeid, g_editable): so structure and attributes come first, and where words are
// needed at all they are data for several languages (LOCALIZED below), never English
// alone.
// tests/extension/test_gmail_selectors.py runs each list against the Gmail-like test
// page with the preferred selectors' hooks removed, so every fallback is exercised.
//
// A classic script (content scripts cannot be ES modules): defines
// `globalThis.EngageGmail`. It only reads the page; it never changes it.
(() => {
  "use strict";
  if (globalThis.EngageGmail) return;

  // The words Gmail shows, in the languages Engage speaks and many more of Gmail's,
  // each as Gmail writes it. Used only after every structural selector, except the
  // plain-text menu item, which has no structural hook: it is known by its words alone
  // (compared without spaces or case, so "プレーン テキスト モード" and "Plain text mode"
  // are each found however the page spaces them), and a language missing here means a
  // plain-text email is taken for HTML, so the list is long.
  const LOCALIZED = Object.freeze({
    body: ["Message Body", "Nachrichtentext", "Corps du message", "Cuerpo del mensaje",
      "Corpo del messaggio", "Corpo da mensagem", "Berichttekst", "Treść wiadomości", "メッセージ本文",
      "Текст письма", "邮件正文", "郵件內文", "메일 본문", "İleti Gövdesi", "Meddelandetext"],
    send: ["Send", "Senden", "Envoyer", "Enviar", "Invia", "Verzenden", "Wyślij", "送信", "Отправить",
      "发送", "傳送", "보내기", "Gönder", "Skicka", "Lähetä", "Odeslat", "Надіслати", "Kirim", "Küldés",
      "Trimite", "Αποστολή"],
    subject: ["Subject", "Betreff", "Objet", "Asunto", "Oggetto", "Assunto", "Onderwerp", "Temat", "件名",
      "Тема", "主题", "主旨", "제목", "Konu", "Ämne", "Emne", "Aihe", "Předmět", "Tárgy", "Subiect", "Θέμα"],
    plainText: ["plain text", "plain-text", "Nur-Text", "texte brut", "texto sin formato",
      "testo normale", "texto simples", "platte tekst", "zwykłego tekstu", "zwykły tekst",
      "プレーン テキスト", "обычного текста", "обычный текст", "纯文本", "純文字", "일반 텍스트",
      "düz metin", "oformaterad text", "almindelig tekst", "ren tekst", "pelkkä teksti",
      "prostého textu", "prostý text", "звичайного тексту", "teks biasa", "văn bản thuần",
      "egyszerű szöveg", "text simplu", "απλού κειμένου", "טקסט פשוט", "النص العادي", "सादा टेक्स्ट",
      "ข้อความธรรมดา"],
  });

  function localized(name, selector) {
    return LOCALIZED[name].map(selector);
  }

  const SELECTORS = Object.freeze({
    // The editable message body of a compose window.
    body: [
      'div.Am.editable[contenteditable="true"]',
      'div[g_editable="true"][contenteditable="true"]',
      'div[contenteditable="true"][role="textbox"][aria-multiline="true"]',
      ...localized("body", (label) => `div[aria-label="${label}"][contenteditable="true"]`),
    ],
    // The Send button (not "Schedule send", which is the arrow next to it).
    // InboxSDK's `.IZ .Up > div > [role=button]` is the structural one.
    sendButton: [
      'div.T-I.aoO[role="button"]',
      '.IZ .Up > div > [role="button"]',
      ...localized("send", (word) => `[role="button"][data-tooltip^="${word}"]`),
      ...localized("send", (word) => `[role="button"][aria-label^="${word}"]`),
    ],
    // The compose window around a body: pop-up, inline reply / forward, full screen.
    composeRoot: ['div[role="dialog"]', "div.M9", "div.AD", "form.bAs"],
    subject: [
      'input[name="subjectbox"]',
      'input[name="subject"]',
      ...localized("subject", (word) => `input[placeholder="${word}"]`),
    ],
    // Recipient chips in the To / Cc / Bcc rows (today's chips, then older Gmail).
    recipientChip: ['[data-hovercard-id*="@"]', "span[email]", "[data-email]"],
    // Older Gmail kept the recipients in form fields as "Name <address>" lists.
    recipientField: [
      'input[type="hidden"][name="to"]',
      'input[type="hidden"][name="cc"]',
      'input[type="hidden"][name="bcc"]',
      'textarea[name="to"]',
      'textarea[name="cc"]',
      'textarea[name="bcc"]',
    ],
    // Where Gmail says who the email is from (never a recipient).
    fromRow: ['[name="from"]', "div.az2", ".aoD.az6"],
    draftId: ['input[name="draft"]'],
    composeId: ['input[name="composeid"]'],
    // The row of buttons at the bottom of a compose window, Send first.
    toolbarRow: ["tr.btC", "div.btC"],
    // Gmail's plain-text mode: the checked "Plain text mode" item of the compose's
    // "More options" menu (Gmail keeps the menu once it was opened; its words are in
    // LOCALIZED.plainText), or the form field older Gmail used.
    plainTextItem: ['[role="menuitemcheckbox"][aria-checked="true"]'],
    plainTextField: ['input[name="ishtml"][value="0"]'],
    // The open conversation: its heading carries Gmail's thread id.
    threadHeading: ["h2.hP[data-legacy-thread-id]", "h2[data-legacy-thread-id]", "[data-legacy-thread-id]"],
    conversation: ['div[role="main"]', "div.nH.if", "div.aeF"],
    // The body of a message shown in a conversation (not an editor).
    messageBody: ["div.a3s", "div.ii.gt", "div[data-message-id] div[dir]"],
    // A message shown in a conversation (its legacy id is the 16 hex digits Gmail's
    // URLs use) and, inside it, who sent it (Gmail's span with an email attribute).
    conversationMessage: ["div.adn[data-legacy-message-id]", "[data-legacy-message-id]"],
    messageSender: ["span.gD[email]", "h3 span[email]", "span[email]"],
    // A row of a thread list (Inbox, Sent, labels, search results): Gmail's tr.zA,
    // then a grid row of the main area, then any table row naming a thread.
    threadRow: ["tr.zA", '[role="main"] [role="grid"] tr[role="row"]', "tr:has([data-thread-id], [data-legacy-thread-id])"],
    // Where a row names its thread: the subject's span carries both ids (InboxSDK's
    // thread-row parser reads them there); the legacy one is the hex id of URLs.
    rowLegacyId: ["[data-legacy-thread-id]"],
    rowPermId: ['[data-thread-id^="#thread-f:"]', '[data-thread-id^="thread-f:"]'],
    // What the mark goes in front of: the subject, else the element holding the id.
    rowSubject: ["div.y6", "span.bog", "[data-thread-id]", "[data-legacy-thread-id]"],
    // One message shown in an open conversation for its mark (conversationMessage
    // above, with a fallback for views without the legacy id), and its header's date cell.
    shownMessage: ["div.adn[data-legacy-message-id]", "div.adn[data-message-id]", "div[data-message-id]"],
    messageHeader: ["div.gH", "span.g3", "div.gE"],
    // The "View message" link of Gmail's "Message sent" toast: its `param` is the sent
    // message's id (ContactMonkey's extension read it there), a new email's thread id.
    sentLink: ["span#link_vsm[param]", "#link_vsm[param]", '[role="alert"] [role="link"][param]'],
  });

  const squeezed = (text) => (text || "").toLowerCase().replace(/\s+/g, "");
  const PLAIN_TEXT_WORDS = LOCALIZED.plainText.map(squeezed);

  function saysPlainText(text) {
    const words = squeezed(text);
    return PLAIN_TEXT_WORDS.some((word) => words.includes(word));
  }
  // Gmail's thread ids: the 16 hex digits of its URLs (legacy ids).
  const GMAIL_THREAD_ID = /^[0-9a-f]{12,20}$/i;

  function first(root, name) {
    for (const selector of SELECTORS[name]) {
      const found = root.querySelector(selector);
      if (found) return found;
    }
    return null;
  }

  function all(root, name) {
    for (const selector of SELECTORS[name]) {
      const found = root.querySelectorAll(selector);
      if (found.length) return Array.from(found);
    }
    return [];
  }

  function matches(el, name) {
    return SELECTORS[name].some((selector) => el.matches(selector));
  }

  function closest(el, name) {
    for (const selector of SELECTORS[name]) {
      const found = el.closest(selector);
      if (found) return found;
    }
    return null;
  }

  /** Every compose body on the page. */
  function bodies(doc = document) {
    const seen = new Set();
    for (const selector of SELECTORS.body) {
      for (const el of doc.querySelectorAll(selector)) seen.add(el);
    }
    // A body nested in another match (Gmail never does this) would be counted twice.
    return [...seen].filter((el) => ![...seen].some((other) => other !== el && other.contains(el)));
  }

  /** The compose window holding `el` (its body, its Send button, anything in it). */
  function composeOf(el) {
    if (!el || !el.closest) return null;
    for (const selector of SELECTORS.composeRoot) {
      const root = el.closest(selector);
      if (root && first(root, "body") && first(root, "sendButton")) return root;
    }
    // Structural fallback: the nearest ancestor holding both a body and a Send button.
    for (let node = el.parentElement; node && node !== document.documentElement; node = node.parentElement) {
      if (first(node, "body") && first(node, "sendButton")) return node;
    }
    return null;
  }

  function bodyOf(compose) {
    return first(compose, "body");
  }

  function sendButtonOf(compose) {
    return first(compose, "sendButton");
  }

  /** The Send button `target` is on or inside, or null. */
  function sendButtonAt(target) {
    return target && target.closest ? closest(target, "sendButton") : null;
  }

  function subjectOf(compose) {
    const input = first(compose, "subject");
    if (input && input.value.trim()) return input.value.trim();
    // Inline replies hide the subject field: the conversation's heading has it.
    const conversation = closest(compose, "conversation");
    const heading = conversation && first(conversation, "threadHeading");
    return heading ? heading.textContent.trim() : input ? input.value.trim() : "";
  }

  /**
   * The recipients: `{name, address}` from chips, and "Name <address>" strings from
   * older Gmail's fields. client_py parses and validates them (offscreen document).
   */
  function recipientsOf(compose) {
    const body = bodyOf(compose);
    const from = first(compose, "fromRow");
    const found = [];
    for (const selector of SELECTORS.recipientChip) {
      for (const chip of compose.querySelectorAll(selector)) {
        if ((body && body.contains(chip)) || (from && from.contains(chip))) continue;
        const address = chip.getAttribute("data-hovercard-id") || chip.getAttribute("email")
          || chip.getAttribute("data-email") || "";
        if (!address.includes("@")) continue;
        const name = chip.getAttribute("data-name") || chip.getAttribute("name") || "";
        found.push({ name: name === address ? "" : name.trim(), address: address.trim() });
      }
    }
    for (const selector of SELECTORS.recipientField) {
      for (const field of compose.querySelectorAll(selector)) {
        if (field.value && field.value.includes("@")) found.push(field.value);
      }
    }
    return found;
  }

  function isPlainText(compose) {
    if (first(compose, "plainTextField")) return true;
    return all(compose, "plainTextItem").some((item) => saysPlainText(item.textContent));
  }

  function meaningful(value) {
    return value && value !== "undefined" && value !== "null" ? value : "";
  }

  function draftIdOf(compose) {
    return meaningful(first(compose, "draftId")?.value) || meaningful(first(compose, "composeId")?.value);
  }

  /** Gmail's id of the conversation a reply or forward belongs to, or "" for new ones. */
  function threadIdOf(compose) {
    const own = compose.querySelector("[data-legacy-thread-id]");
    const ownId = own && own.getAttribute("data-legacy-thread-id");
    if (GMAIL_THREAD_ID.test(ownId || "")) return ownId;
    const conversation = closest(compose, "conversation");
    if (conversation && conversation !== compose) {
      const heading = first(conversation, "threadHeading");
      const id = heading && heading.getAttribute("data-legacy-thread-id");
      if (GMAIL_THREAD_ID.test(id || "")) return id;
    }
    return "";
  }

  /** Where to put the tracking toggle: the toolbar row, else next to Send. */
  function toolbarOf(compose) {
    const row = first(compose, "toolbarRow");
    if (row) return { row, after: null };
    const send = sendButtonOf(compose);
    return send ? { row: send.parentElement, after: send } : null;
  }

  /** The id of the conversation open in the reading view, from its heading or the URL. */
  function openThreadId(doc = document) {
    const heading = first(doc, "threadHeading");
    const id = heading && heading.getAttribute("data-legacy-thread-id");
    if (GMAIL_THREAD_ID.test(id || "")) return id;
    const last = (doc.location?.hash || "").split("?")[0].split("/").pop();
    return GMAIL_THREAD_ID.test(last || "") ? last : "";
  }

  /** The original address behind Gmail's image proxy ("https://ci3...#<original>"). */
  function unproxied(src) {
    const cut = src.lastIndexOf("#http");
    return cut >= 0 ? src.slice(cut + 1) : src;
  }

  /** Images in shown messages (not editors) whose address is a pixel of `publicUrl`. */
  function pixelImages(root, publicUrl) {
    if (!publicUrl || !root.querySelectorAll) return [];
    const prefix = `${publicUrl}/p/`;
    const images = root.tagName === "IMG" ? [root] : Array.from(root.querySelectorAll("img"));
    return images.filter((img) => {
      const src = img.getAttribute("src") || "";
      if (!unproxied(src).startsWith(prefix)) return false;
      return !closest(img, "body"); // a compose body: the pixel we are about to send
    });
  }

  /** When Gmail made a message: its legacy id's top bits are milliseconds since 1970
   * (ids are 16 hex digits, the last 5 a counter). null when that is not a plausible
   * time (an id from another scheme), so the server takes "now". */
  function messageTime(legacyId, now = Date.now()) {
    if (!/^[0-9a-f]{16}$/i.test(legacyId || "")) return null;
    const ms = parseInt(legacyId.slice(0, 11), 16);
    return ms > Date.UTC(2004, 0, 1) && ms < now + 86400000 ? new Date(ms).toISOString() : null;
  }

  /** The messages of the open conversation, oldest first: {id, from, name, at}. */
  function conversationMessages(doc = document) {
    const out = [];
    for (const node of all(doc, "conversationMessage")) {
      const id = node.getAttribute("data-legacy-message-id") || "";
      const sender = first(node, "messageSender");
      const from = ((sender && sender.getAttribute("email")) || "").trim().toLowerCase();
      if (!GMAIL_THREAD_ID.test(id) || !from) continue;
      out.push({ id, from, name: (sender.getAttribute("name") || "").trim(), at: messageTime(id) });
    }
    return out;
  }

  /** Every thread-list row in `root` (or `root` itself when it is one). */
  function threadRows(root = document) {
    if (root.nodeType !== 1 && root.nodeType !== 9) return [];
    if (root.nodeType === 1 && matches(root, "threadRow")) return [root];
    // Every threadRow selector is a table row: most of what Gmail adds holds none, and
    // is then not searched three times (this runs for every element Gmail adds).
    if (!root.getElementsByTagName("tr").length) return [];
    return all(root, "threadRow");
  }

  /** The row `el` is in, or null. */
  function threadRowOf(el) {
    return el && el.closest ? closest(el, "threadRow") : null;
  }

  /**
   * Gmail's (legacy, hex) thread id of a list row, or "" when the row names none.
   * `#thread-f:<decimal>` is the same number: converted when the hex one is missing.
   */
  function rowThreadId(row) {
    const legacy = row.matches("[data-legacy-thread-id]") ? row : first(row, "rowLegacyId");
    const id = legacy && legacy.getAttribute("data-legacy-thread-id");
    if (GMAIL_THREAD_ID.test(id || "")) return id.toLowerCase();
    const perm = first(row, "rowPermId");
    const digits = /thread-f:(\d{1,20})$/.exec(perm ? perm.getAttribute("data-thread-id") : "");
    if (!digits) return "";
    try {
      const hex = BigInt(digits[1]).toString(16);
      return GMAIL_THREAD_ID.test(hex) ? hex : "";
    } catch {
      return "";
    }
  }

  /** The element a row's mark goes in front of. */
  function rowMarkAnchor(row) {
    return first(row, "rowSubject");
  }

  /** Messages shown in an open conversation, in `root` (or `root` itself). */
  function shownMessages(root = document) {
    if (root.nodeType !== 1 && root.nodeType !== 9) return [];
    if (root.nodeType === 1 && matches(root, "shownMessage")) return [root];
    return all(root, "shownMessage");
  }

  function shownMessageOf(el) {
    return el && el.closest ? closest(el, "shownMessage") : null;
  }

  /** The sender's address of a shown message ("" when not found). */
  function senderOf(message) {
    const sender = first(message, "messageSender");
    return ((sender && sender.getAttribute("email")) || "").trim().toLowerCase();
  }

  /** Where a shown message's mark goes: in its header, before the date. */
  function messageMarkAnchor(message) {
    return first(message, "messageHeader");
  }

  /**
   * The Gmail id of the message just sent, from the "View message" link in or at
   * `root` ("" when there is none): hex as is, `thread-f:` / `msg-f:` decimals converted.
   */
  function sentMessageId(root = document) {
    if (root.nodeType !== 1 && root.nodeType !== 9) return "";
    // One cheap look first: this runs for every element Gmail adds.
    if (root.nodeType === 1 && !root.hasAttribute("param") && !root.querySelector("[param]")) return "";
    const link = root.nodeType === 1 && matches(root, "sentLink") ? root : first(root, "sentLink");
    const param = (link && link.getAttribute("param")) || "";
    if (GMAIL_THREAD_ID.test(param)) return param.toLowerCase();
    const digits = /(?:thread|msg)-f:(\d{1,20})/.exec(param);
    if (!digits) return "";
    try {
      const hex = BigInt(digits[1]).toString(16);
      return GMAIL_THREAD_ID.test(hex) ? hex : "";
    } catch {
      return "";
    }
  }

  globalThis.EngageGmail = Object.freeze({
    sentMessageId,
    threadRows,
    threadRowOf,
    rowThreadId,
    rowMarkAnchor,
    shownMessages,
    shownMessageOf,
    senderOf,
    messageMarkAnchor,
    SELECTORS,
    LOCALIZED,
    first,
    all,
    matches,
    closest,
    bodies,
    composeOf,
    bodyOf,
    sendButtonOf,
    sendButtonAt,
    subjectOf,
    recipientsOf,
    isPlainText,
    draftIdOf,
    threadIdOf,
    toolbarOf,
    openThreadId,
    unproxied,
    pixelImages,
    messageTime,
    conversationMessages,
  });
})();
