// A test double of Office.js for Outlook, served by the browser tests in place of
// https://appsforoffice.microsoft.com/lib/1/hosted/office.js (page.route).
//
// It implements what the Engage add-in uses, as Microsoft documents it:
// - every *Async method answers through its callback later (never synchronously) with
//   an AsyncResult {status: "succeeded"|"failed", value, error: {name, message, code},
//   asyncContext}; options may be omitted (callback in their place);
// - Body (Mailbox 1.1/1.3): getTypeAsync; getAsync(coercionType) converting between
//   HTML and text; setAsync / prependAsync treat the data as text unless
//   options.coercionType says HTML ("If you don't specify an argument ... assume the
//   data to insert is in text format"), so HTML passed without it shows its tags as
//   text; coercionType HTML on a plain-text body fails with InvalidFormatError; more
//   than 1,000,000 characters fails with DataExceedsMaximumSize; appendOnSendAsync
//   content is added when the item is sent;
// - Recipients getAsync/setAsync/addAsync with EmailAddressDetails
//   {displayName, emailAddress, recipientType}; Subject getAsync/setAsync;
// - NotificationMessages addAsync (at most 5, else NumberOfNotificationMessagesExceeded;
//   key at most 32 characters), replaceAsync (adds when the key is new), removeAsync,
//   getAllAsync; a message over 150 characters, or icon/persistent on a type other
//   than informationalMessage, throws (documented as exceptions, not results);
// - getItemIdAsync fails with ItemNotSaved until saveAsync gave the item an id;
//   loadCustomPropertiesAsync; displayMessageForm; roamingSettings;
// - Office.actions.associate, launch events and function commands whose event
//   objects record event.completed(options).
//
//
// It also reproduces what Outlook is known to do wrong, each from the issue that reports
// it, so the add-in is tested against Outlook as its users meet it (docs/addin.md):
// - OfficeDev/office-js #6808 (open): body.setAsync during an OnMessageSend event, even
//   with the very body getAsync returned, breaks the *quoted* inline images: the
//   recipient gets a 1x1 blank GIF in their place and their attachments are not sent;
// - #6944 (open, new Outlook on Windows): setAsync of a body with many (10+) inline
//   images or OneDrive/SharePoint links silently keeps only its first ~87%;
// - #4392: on a reply or forward, getAsync after a setAsync returns the quoted part twice
//   (what is stored is right; an add-in that writes back what it read duplicates it);
// - #5430 (won't fix, Outlook for Mac): setAsync breaks inline images for the recipient
//   (their attachments are not sent), whenever it is called;
// - #4868, #5845: a callback may never be called (hang(name) below);
// - #6263: setAsync over 1,000,000 characters throws Sys.ArgumentOutOfRangeException
//   instead of answering DataExceedsMaximumSize through the callback;
// - Microsoft's append-on-send documentation: content given to appendOnSendAsync /
//   prependOnSendAsync is added "before the OnMessageSend event handler operations", so a
//   call made inside the send handler is too late for that send (here: ignored);
// - setAsync stores the HTML as Outlook's editor normalises it (parsed and serialised
//   again), so an add-in cannot compare bodies byte for byte;
// - #3598 (open, new Outlook for Mac): content with an <img> queued with appendOnSendAsync
//   (or prependOnSendAsync) makes Outlook send the email without its file attachments
//   (before that, #3372, open, and #2534: the queued image was turned into an attachment);
// - #2383 (Outlook for Mac): saveAsync breaks the inline images for the recipient (their
//   attachments are not sent), like setAsync (#5430);
// - Office.context.mailbox.diagnostics.hostName is "Outlook" for classic Outlook on
//   Windows and for Outlook on Mac, "OutlookWebApp" on the web (Office.Diagnostics);
//   Office.context.platform is "PC" only in classic Outlook on Windows, whose launch
//   events run in a JavaScript-only runtime that loads commands.js alone (Runtimes in
//   Office Add-ins): a test loads that file alone to play that runtime.
// What the recipient receives is item().delivered: {body, attachments} after a send.
//
// Tests configure it with window.__officeDoubleConfig (before the page loads) and
// drive it through window.__officeDouble.
(function () {
  "use strict";

  const config = window.__officeDoubleConfig || {};
  const MAX_BODY = 1000000;
  const MAX_NOTIFICATIONS = 5;

  const AsyncResultStatus = { Succeeded: "succeeded", Failed: "failed" };
  const CoercionType = { Html: "html", Text: "text" };
  const MailboxEnums = {
    ItemType: { Message: "message", Appointment: "appointment" },
    ItemNotificationMessageType: {
      ProgressIndicator: "progressIndicator",
      InformationalMessage: "informationalMessage",
      ErrorMessage: "errorMessage",
      InsightMessage: "insightMessage",
    },
    RecipientType: { DistributionList: "distributionList", User: "user", ExternalUser: "externalUser", Other: "other" },
    SendModeOverride: { PromptUser: "promptUser" },
  };
  const HostType = { Outlook: "Outlook" };
  const PlatformType = { OfficeOnline: "OfficeOnline", Mac: "Mac", PC: "PC" };

  const calls = []; // every API call, in order: [name, ...args summary]
  // Methods whose callbacks will never be called (#4868, #5845): name -> how many more
  // calls hang (Infinity for all).
  const hanging = Object.assign({}, config.hang || {});
  let truncateNext = 0; // #6944 on bodies its (approximate) threshold would spare
  let platform = config.platform || "OfficeOnline"; // "Mac" for Outlook for Mac (#5430)
  // Mailbox requirement set, as its minor number ("1.14" -> 14: 1.9 < 1.14).
  const minorOf = (version) => Number(String(version).split(".")[1] || 0);
  const mailboxMinor = minorOf(config.mailboxVersion || "1.14");
  const associations = {};
  const displayed = [];
  const completions = [];

  function later(fn) {
    setTimeout(fn, config.delayMs || 1);
  }

  function split(options, callback) {
    if (typeof options === "function") return [{}, options];
    return [options || {}, callback];
  }

  /** Whether the call just recorded hangs: its callback is then never called. */
  function hangs() {
    const name = calls.length ? calls[calls.length - 1][0] : "";
    if (!hanging[name]) return false;
    hanging[name] -= 1;
    calls[calls.length - 1].push("(never answered)");
    return true;
  }

  // Called synchronously by each method right after it recorded itself in `calls`.
  function answer(callback, options, status, value, error) {
    if (hangs()) return;
    const result = { status, value, error, asyncContext: options.asyncContext, diagnostics: undefined };
    if (typeof callback === "function") later(() => callback(result));
  }

  const succeed = (callback, options, value) => answer(callback, options, AsyncResultStatus.Succeeded, value, undefined);
  const fail = (callback, options, name, message, code) =>
    answer(callback, options, AsyncResultStatus.Failed, undefined, { name, message, code: code || 9000 });

  function escapeHtml(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function textToHtml(text) {
    return escapeHtml(text).replace(/\r?\n/g, "<br>");
  }

  function htmlToText(html) {
    const doc = new DOMParser().parseFromString(String(html), "text/html");
    return (doc.body && doc.body.textContent) || "";
  }

  // -- how Outlook treats bodies (the known behaviours above) ---------------------------
  const BLANK_GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";
  const QUOTE_MARK = /<[a-z][^>]*\bid\s*=\s*["']?(?:appendonsend|divRplyFwdMsg|mail-editor-reference-message-container)\b/i;
  const CLOUD_LINK = /<a\b[^>]*\bhref\s*=\s*["']?https?:\/\/(?:[^\/"'\s>]*\.sharepoint\.com|onedrive\.live\.com|1drv\.ms)/gi;

  /** Where the quoted earlier message starts in ``html`` (-1: none). */
  function quoteStart(html) {
    const match = QUOTE_MARK.exec(html);
    return match ? match.index : -1;
  }

  /** The content ids of the inline images in ``html`` (src or OWA's originalsrc = cid:...). */
  function inlineImages(html) {
    const doc = new DOMParser().parseFromString(String(html), "text/html");
    const ids = [];
    for (const img of doc.querySelectorAll("img")) {
      for (const value of [img.getAttribute("originalsrc"), img.getAttribute("src")]) {
        if (value && /^cid:/i.test(value)) {
          ids.push(value.slice(4));
          break;
        }
      }
    }
    return ids;
  }

  /** #6944: 10 or more inline images or OneDrive/SharePoint links. */
  function manyInlineItems(html) {
    return inlineImages(html).length + (String(html).match(CLOUD_LINK) || []).length >= 10;
  }

  /** #6944: what setAsync keeps of such a body: its first ~87%, cut before a tag. */
  function truncated(html) {
    let cut = Math.floor(html.length * 0.87);
    const tag = html.lastIndexOf("<", cut);
    if (tag > 0) cut = tag;
    return html.slice(0, cut);
  }

  /** The HTML as Outlook's editor stores it: parsed and serialised again. */
  function normalised(html) {
    const text = String(html);
    const doc = new DOMParser().parseFromString(text, "text/html");
    return /<html[\s>]/i.test(text) ? doc.documentElement.outerHTML : doc.body.innerHTML;
  }

  /** ``html`` with ``content`` added at the start (prepend) or end of its body. */
  function spliced(html, content, atStart) {
    if (atStart) {
      const open = /<body[^>]*>/i.exec(html);
      const at = open ? open.index + open[0].length : 0;
      return html.slice(0, at) + content + html.slice(at);
    }
    const close = html.search(/<\/body\s*>/i);
    return close >= 0 ? html.slice(0, close) + content + html.slice(close) : html + content;
  }

  /** #6808: the quoted part's inline images replaced by a blank GIF; their ids. */
  function blankQuotedImages(html) {
    const at = quoteStart(html);
    if (at < 0) return { html, lost: [] };
    const lost = [];
    const quote = html.slice(at).replace(/<img\b[^>]*>/gi, (tag) => {
      const cid = /(?:originalsrc|src)\s*=\s*["']?cid:([^"'\s>]+)/i.exec(tag);
      if (!cid) return tag;
      lost.push(cid[1]);
      return tag.replace(/\s(?:originalsrc|src)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi, "")
        .replace(/^<img\b/i, `<img src="${BLANK_GIF}"`);
    });
    return { html: html.slice(0, at) + quote, lost };
  }

  function detailsOf(entry) {
    if (typeof entry === "string") return { displayName: entry, emailAddress: entry, recipientType: "other" };
    return {
      displayName: entry.displayName || entry.name || entry.emailAddress || entry.address || "",
      emailAddress: entry.emailAddress || entry.address || "",
      recipientType: entry.recipientType || "other",
    };
  }

  // -- the item -------------------------------------------------------------------------
  function makeItem(spec) {
    const s = spec || {};
    const appointment = s.itemType === MailboxEnums.ItemType.Appointment;
    const state = {
      itemType: appointment ? MailboxEnums.ItemType.Appointment : MailboxEnums.ItemType.Message,
      format: s.format === "text" ? "text" : "html",
      body: s.body === undefined ? "" : String(s.body),
      subject: s.subject || "",
      itemId: s.itemId || null,
      conversationId: s.conversationId === undefined ? null : s.conversationId,
      recipients: {},
      notifications: new Map(),
      customProperties: Object.assign({}, s.customProperties || {}),
      sent: false,
      sendBlocked: null,
      appendOnSend: [],
      prependOnSend: [],
      sending: false, // inside an OnMessageSend/OnAppointmentSend handler
      quoteBlanked: false, // #6808 happened: setAsync during a send, quoted inline images
      duplicateQuote: false, // #4392 happened: getAsync returns the quote twice
      brokenImages: new Set(), // content ids whose attachments will not be sent (#5430)
      delivered: null,
    };
    state.isReply = s.reply === true || quoteStart(state.body) >= 0;
    // Inline attachments: given, else one per cid: image of the body.
    state.attachments = (s.attachments || inlineImages(state.body).map((id) => ({ name: id, contentId: id })))
      .map((a) => ({ name: a.name || a.contentId, contentId: a.contentId || null, isInline: a.isInline !== false }));
    const fields = appointment ? ["requiredAttendees", "optionalAttendees"] : ["to", "cc", "bcc"];
    for (const field of fields) state.recipients[field] = (s[field] || []).map(detailsOf);

    function recipientsApi(field) {
      return {
        getAsync(options, callback) {
          [options, callback] = split(options, callback);
          calls.push([`${field}.getAsync`]);
          succeed(callback, options, state.recipients[field].map((d) => Object.assign({}, d)));
        },
        setAsync(list, options, callback) {
          [options, callback] = split(options, callback);
          calls.push([`${field}.setAsync`]);
          state.recipients[field] = (list || []).map(detailsOf);
          succeed(callback, options);
        },
        addAsync(list, options, callback) {
          [options, callback] = split(options, callback);
          calls.push([`${field}.addAsync`]);
          state.recipients[field] = state.recipients[field].concat((list || []).map(detailsOf));
          succeed(callback, options);
        },
      };
    }

    function checkedData(data, options, callback) {
      if (typeof data !== "string") {
        fail(callback, options, "InvalidParameterValueError", "The value of the parameter 'data' is invalid.");
        return null;
      }
      if (data.length > MAX_BODY) {
        // Documented as DataExceedsMaximumSize in the callback; Outlook throws (#6263).
        throw new Error("Sys.ArgumentOutOfRangeException: Specified argument was out of the range of valid values. Parameter name: data");
      }
      const coercion = options.coercionType || CoercionType.Text; // documented default
      if (coercion === CoercionType.Html && state.format === "text") {
        fail(callback, options, "InvalidFormatError",
          "The options.coercionType parameter is set to Office.CoercionType.Html and the message body is in plain text.");
        return null;
      }
      // Text into an HTML body: shown as text, tags and all.
      return coercion === CoercionType.Text && state.format === "html" ? textToHtml(data) : data;
    }

    /** appendOnSendAsync / prependOnSendAsync: queued for the send; null clears the queue. */
    function onSend(where, data, options, callback) {
      [options, callback] = split(options, callback);
      calls.push([`body.${where}OnSendAsync`, options.coercionType || null]);
      if (data !== null && typeof data !== "string") {
        fail(callback, options, "InvalidParameterValueError", "The value of the parameter 'data' is invalid.");
        return;
      }
      if (typeof data === "string" && data.length > 5000) {
        fail(callback, options, "DataExceedsMaximumSize", "The data parameter is longer than 5,000 characters.");
        return;
      }
      if (options.coercionType === CoercionType.Html && state.format === "text") {
        fail(callback, options, "InvalidFormatError",
          "The options.coercionType parameter is set to Office.CoercionType.Html but the message body is in plain text.");
        return;
      }
      const queue = where === "append" ? "appendOnSend" : "prependOnSend";
      // "occur before the OnMessageSend event handler operations": too late for this send.
      if (!state.sending) state[queue] = data === null ? [] : state[queue].concat([data]);
      succeed(callback, options);
    }

    /** What the recipient receives when the item is sent. */
    function deliver() {
      let body = state.body;
      if (state.format === "html") {
        for (const data of state.prependOnSend.slice().reverse()) body = spliced(body, data, true);
        for (const data of state.appendOnSend) body = spliced(body, data, false);
        if (state.quoteBlanked) {
          const blanked = blankQuotedImages(body); // #6808
          body = blanked.html;
          blanked.lost.forEach((id) => state.brokenImages.add(id));
        }
      } else {
        body = state.prependOnSend.map((d) => `${d}\n`).join("") + body
          + state.appendOnSend.map((d) => `\n${d}`).join("");
      }
      // #3598: on a Mac, an image queued on send costs the email its file attachments.
      const dropFiles = platform === "Mac" && state.format === "html"
        && state.appendOnSend.concat(state.prependOnSend).some((data) => /<img\b/i.test(data));
      state.body = body;
      state.delivered = {
        body,
        attachments: state.attachments.filter((a) => !(a.isInline && state.brokenImages.has(a.contentId)))
          .filter((a) => a.isInline || !dropFiles)
          .map((a) => Object.assign({}, a)),
      };
    }

    const body = {
      getTypeAsync(options, callback) {
        [options, callback] = split(options, callback);
        calls.push(["body.getTypeAsync"]);
        succeed(callback, options, state.format === "html" ? CoercionType.Html : CoercionType.Text);
      },
      getAsync(coercionType, options, callback) {
        [options, callback] = split(options, callback);
        calls.push(["body.getAsync", coercionType]);
        if (coercionType !== CoercionType.Html && coercionType !== CoercionType.Text) {
          fail(callback, options, "InvalidParameterValueError", "The value of the parameter 'coercionType' is invalid.");
          return;
        }
        let value = state.body;
        if (coercionType === CoercionType.Text && state.format === "html") value = htmlToText(state.body);
        if (coercionType === CoercionType.Html && state.format === "text") {
          value = `<html><body><div>${textToHtml(state.body)}</div></body></html>`;
        }
        if (coercionType === CoercionType.Html && state.duplicateQuote) {
          const at = quoteStart(value); // #4392: the quoted part, twice
          if (at >= 0) {
            const close = value.search(/<\/body\s*>/i);
            const end = close >= 0 ? close : value.length;
            value = value.slice(0, end) + value.slice(at, end) + value.slice(end);
          }
        }
        succeed(callback, options, value);
      },
      setAsync(data, options, callback) {
        [options, callback] = split(options, callback);
        calls.push(["body.setAsync", options.coercionType || null]);
        let value = checkedData(data, options, callback);
        if (value === null) return;
        if (state.format === "html") {
          const images = inlineImages(value);
          if (state.sending && quoteStart(value) >= 0 && inlineImages(value.slice(quoteStart(value))).length) {
            state.quoteBlanked = true; // #6808
          }
          if (platform === "Mac") images.forEach((id) => state.brokenImages.add(id)); // #5430
          if (manyInlineItems(value) || truncateNext > 0) { // #6944
            truncateNext = Math.max(0, truncateNext - 1);
            value = truncated(value);
          }
          value = normalised(value);
          if (state.isReply) state.duplicateQuote = true; // #4392
        }
        state.body = value;
        succeed(callback, options);
      },
      prependAsync(data, options, callback) {
        [options, callback] = split(options, callback);
        calls.push(["body.prependAsync", options.coercionType || null]);
        const value = checkedData(data, options, callback);
        if (value === null) return;
        state.body = state.format === "html" ? spliced(state.body, value, true) : value + state.body;
        succeed(callback, options);
      },
      appendOnSendAsync(data, options, callback) {
        onSend("append", data, options, callback);
      },
      prependOnSendAsync(data, options, callback) {
        onSend("prepend", data, options, callback);
      },
    };

    function validateNotification(key, details) {
      const types = MailboxEnums.ItemNotificationMessageType;
      if (typeof key !== "string" || !key || key.length > 32) throw new Error("Sys.ArgumentException: key");
      if (!details || typeof details.message !== "string") throw new Error("Sys.ArgumentNullException: message");
      if (details.message.length > 150) throw new Error("Sys.ArgumentOutOfRangeException: message");
      if (!Object.values(types).includes(details.type)) throw new Error("Sys.ArgumentException: type");
      const informational = details.type === types.InformationalMessage;
      if (!informational && (details.icon !== undefined || details.persistent !== undefined)) {
        throw new Error("Sys.ArgumentException: icon and persistent are only for informationalMessage");
      }
      if (informational && (typeof details.icon !== "string" || typeof details.persistent !== "boolean")) {
        throw new Error("Sys.ArgumentException: informationalMessage needs icon and persistent");
      }
    }

    const notificationMessages = {
      addAsync(key, details, options, callback) {
        [options, callback] = split(options, callback);
        calls.push(["notificationMessages.addAsync", key]);
        validateNotification(key, details);
        if (state.notifications.size >= MAX_NOTIFICATIONS) {
          fail(callback, options, "NumberOfNotificationMessagesExceeded",
            "The notification couldn't be added because the maximum number of notifications has been reached.");
          return;
        }
        state.notifications.set(key, Object.assign({ key }, details));
        succeed(callback, options);
      },
      replaceAsync(key, details, options, callback) {
        [options, callback] = split(options, callback);
        calls.push(["notificationMessages.replaceAsync", key]);
        validateNotification(key, details);
        if (!state.notifications.has(key) && state.notifications.size >= MAX_NOTIFICATIONS) {
          fail(callback, options, "NumberOfNotificationMessagesExceeded",
            "The notification couldn't be added because the maximum number of notifications has been reached.");
          return;
        }
        state.notifications.set(key, Object.assign({ key }, details));
        succeed(callback, options);
      },
      removeAsync(key, options, callback) {
        [options, callback] = split(options, callback);
        calls.push(["notificationMessages.removeAsync", key]);
        if (!state.notifications.has(key)) {
          fail(callback, options, "KeyNotFound", "There are no notifications with the provided key.");
          return;
        }
        state.notifications.delete(key);
        succeed(callback, options);
      },
      getAllAsync(options, callback) {
        [options, callback] = split(options, callback);
        calls.push(["notificationMessages.getAllAsync"]);
        succeed(callback, options, Array.from(state.notifications.values()).map((n) => Object.assign({}, n)));
      },
    };

    const item = {
      itemType: state.itemType,
      get conversationId() {
        return state.conversationId;
      },
      get itemId() {
        // Read mode (a message selected in the reading pane): its id; compose mode: none
        // (use getItemIdAsync).
        return s.mode === "read" ? state.itemId : undefined;
      },
      body,
      notificationMessages,
      subject: {
        getAsync(options, callback) {
          [options, callback] = split(options, callback);
          calls.push(["subject.getAsync"]);
          succeed(callback, options, state.subject);
        },
        setAsync(value, options, callback) {
          [options, callback] = split(options, callback);
          calls.push(["subject.setAsync"]);
          state.subject = String(value);
          succeed(callback, options);
        },
      },
      getItemIdAsync(options, callback) {
        [options, callback] = split(options, callback);
        calls.push(["getItemIdAsync"]);
        if (!state.itemId) {
          fail(callback, options, "ItemNotSaved", "The ID can't be retrieved until the item is saved.");
          return;
        }
        succeed(callback, options, state.itemId);
      },
      saveAsync(options, callback) {
        [options, callback] = split(options, callback);
        calls.push(["saveAsync"]);
        if (platform === "Mac") inlineImages(state.body).forEach((id) => state.brokenImages.add(id)); // #2383
        if (!state.itemId) state.itemId = `AAMkAD${Math.random().toString(36).slice(2, 12)}=`;
        succeed(callback, options, state.itemId);
      },
      loadCustomPropertiesAsync(callback, userContext) {
        calls.push(["loadCustomPropertiesAsync"]);
        const pending = Object.assign({}, state.customProperties);
        const props = {
          get: (name) => pending[name],
          set: (name, value) => {
            pending[name] = value;
          },
          remove: (name) => {
            delete pending[name];
          },
          getAll: () => Object.assign({}, pending),
          saveAsync(options, cb) {
            [options, cb] = split(options, cb);
            calls.push(["customProperties.saveAsync"]);
            state.customProperties = Object.assign({}, pending);
            succeed(cb, options);
          },
        };
        later(() => callback({ status: AsyncResultStatus.Succeeded, value: props, asyncContext: userContext }));
      },
    };
    for (const field of fields) item[field] = recipientsApi(field);
    if (mailboxMinor < 13) delete body.prependOnSendAsync;
    if (mailboxMinor < 9) delete body.appendOnSendAsync;
    return { item, state, deliver };
  }

  // -- mailbox, roaming settings ----------------------------------------------------------
  let current = makeItem(config.item || { body: "<div></div>" });
  const roamingValues = Object.assign({}, config.roamingSettings || {});
  const roamingSettings = {
    get: (name) => roamingValues[name],
    set: (name, value) => {
      roamingValues[name] = value;
    },
    remove: (name) => {
      delete roamingValues[name];
    },
    saveAsync(callback) {
      calls.push(["roamingSettings.saveAsync"]);
      later(() => callback && callback({ status: AsyncResultStatus.Succeeded, value: undefined }));
    },
  };

  const EventType = { ItemChanged: "olkItemSelectedChanged" };
  const itemChangedHandlers = [];
  const mailbox = {
    get item() {
      return current ? current.item : null;
    },
    userProfile: Object.assign({ displayName: "Ann Sender", emailAddress: "ann@acme.example", timeZone: "UTC" },
      config.userProfile || {}),
    get diagnostics() {
      // "Outlook" for classic Outlook on Windows and for Outlook on Mac (Office.Diagnostics).
      return { hostName: platform === "OfficeOnline" ? "OutlookWebApp" : "Outlook", hostVersion: "double" };
    },
    /** Only ItemChanged: a pinned task pane hears of another selected item. */
    addHandlerAsync(eventType, handler, options, callback) {
      [options, callback] = split(options, callback);
      calls.push(["mailbox.addHandlerAsync", eventType]);
      if (eventType !== EventType.ItemChanged) {
        fail(callback, options, "InvalidEventType", `The event type ${eventType} is not supported.`);
        return;
      }
      itemChangedHandlers.push(handler);
      succeed(callback, options);
    },
    displayMessageForm(itemId) {
      calls.push(["displayMessageForm", itemId]);
      if (typeof itemId !== "string" || !itemId) throw new Error("Sys.ArgumentException: itemId");
      displayed.push(itemId);
    },
  };

  const ready = new Promise((resolve) => later(resolve));
  const readyInfo = { host: HostType.Outlook, platform: PlatformType[platform] || platform };

  const Office = {
    AsyncResultStatus,
    CoercionType,
    EventType,
    MailboxEnums,
    HostType,
    PlatformType,
    context: {
      mailbox,
      roamingSettings,
      displayLanguage: config.displayLanguage || "en-US",
      contentLanguage: config.displayLanguage || "en-US",
      get platform() {
        return PlatformType[platform] || platform;
      },
      get diagnostics() {
        return { host: HostType.Outlook, platform: PlatformType[platform] || platform, version: "double" };
      },
      requirements: {
        isSetSupported(name, version) {
          return name === "Mailbox" && (version === undefined || minorOf(version) <= mailboxMinor);
        },
      },
    },
    actions: {
      associate(name, fn) {
        calls.push(["actions.associate", name]);
        associations[name] = fn;
      },
    },
    onReady(callback) {
      return ready.then(() => {
        if (typeof callback === "function") callback(readyInfo);
        return readyInfo;
      });
    },
  };
  ready.then(() => {
    if (typeof Office.initialize === "function") Office.initialize("");
  });

  // -- events ---------------------------------------------------------------------------
  /** Invoke an associated function as Outlook would; resolve when it completes. */
  function dispatch(name, extra) {
    const handler = associations[name];
    if (!handler) return Promise.reject(new Error(`no function associated with ${name}`));
    const started = performance.now();
    const sendEvent = Boolean(extra && extra.type && /Send$/.test(extra.type));
    const target = current;
    if (sendEvent) target.state.sending = true;
    return new Promise((resolve) => {
      const record = { name, calls: 0, options: undefined, ms: undefined };
      const event = Object.assign({
        source: { id: name },
        completed(options) {
          record.calls += 1;
          if (record.calls > 1) return; // only the first completion counts
          record.options = options === undefined ? null : options;
          record.ms = performance.now() - started;
          completions.push(record);
          if (sendEvent) {
            target.state.sending = false;
            if (options && options.allowEvent === false) target.state.sendBlocked = options;
            else {
              target.state.sent = true;
              target.deliver();
            }
          }
          resolve(record);
        },
      }, extra || {});
      handler(event);
    });
  }

  function snapshot() {
    const s = current.state;
    return {
      itemType: s.itemType,
      format: s.format,
      body: s.body,
      subject: s.subject,
      itemId: s.itemId,
      conversationId: s.conversationId,
      recipients: JSON.parse(JSON.stringify(s.recipients)),
      notifications: Array.from(s.notifications.values()).map((n) => Object.assign({}, n)),
      customProperties: Object.assign({}, s.customProperties),
      sent: s.sent,
      sendBlocked: s.sendBlocked,
      attachments: s.attachments.map((a) => Object.assign({}, a)),
      delivered: s.delivered && JSON.parse(JSON.stringify(s.delivered)),
      queuedOnSend: { append: s.appendOnSend.slice(), prepend: s.prependOnSend.slice() },
    };
  }

  window.Office = Office;
  window.__officeDouble = {
    setItem(spec) {
      current = makeItem(spec);
      return snapshot();
    },
    item: snapshot,
    /** The user selecting another item (null: none) with the task pane pinned. */
    select(spec) {
      current = spec === null ? null : makeItem(spec);
      for (const handler of itemChangedHandlers) later(() => handler({ type: EventType.ItemChanged }));
      return spec === null ? null : snapshot();
    },
    calls: () => calls.slice(),
    /** The next ``times`` setAsync calls keep only the first ~87% whatever the body
     *  (#6944's threshold is approximate: "~10+" inline items). */
    truncateNextSet(times) {
      truncateNext = times === undefined ? 1 : times;
    },
    /** Outlook on another platform from now on: "Mac", "PC", "OfficeOnline". */
    setPlatform(name) {
      platform = name;
    },
    /** The next ``times`` calls of ``name`` (e.g. "body.getAsync") never call back. */
    hang(name, times) {
      hanging[name] = times === undefined ? Infinity : times;
    },
    associations: () => Object.keys(associations),
    /** A function command, e.g. invoke("trackEmailOpens"). */
    invoke: (name) => dispatch(name, { type: "command" }),
    /** A launch event: launch("OnMessageSend") runs the function the manifest maps it to. */
    launch(type, extra) {
      const name = (config.launchEvents || {})[type];
      if (!name) return Promise.reject(new Error(`no handler configured for ${type}`));
      return dispatch(name, Object.assign({ type }, extra || {}));
    },
    displayed: () => displayed.slice(),
    completions: () => completions.slice(),
    roamingSettings: () => Object.assign({}, roamingValues),
  };
})();
