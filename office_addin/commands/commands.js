// Engage's UI-less runtime: the "Track Email Opens" button (a function command) and the
// launch events (OnNewMessageCompose, OnMessageRecipientsChanged, OnMessageSend and
// their appointment twins). Loaded by commands.html after engage_api.js, with
// engine.mjs booting client_py in Pyodide beside it.
//
// Rules kept here (see docs/addin.md):
// - every Office AsyncResult is checked (officeAsync) and every handler ends in
//   event.completed(...), on every path;
// - sending is never blocked: onSendHandler completes with {allowEvent: true} always,
//   at the latest when its time budget runs out, whatever the engine or server do;
// - an email gets at most one tracking image: the body is checked for one first
//   (client_py.snippet.find_snippet), and operations run one at a time, so a second
//   press waits for the first and then finds its image.
// In classic Outlook on Windows this file runs alone (the JavaScript-only runtime):
// without engage_api.js and the engine, every handler completes at once.
(function (global) {
  "use strict";

  const NOTICE_KEY = "engage"; // result of the button (one notification slot)
  const PREVIEW_KEY = "engageAuto"; // "will be tracked when sent" from the launch events
  const ICON = "Icon.16x16"; // a bt:Image id of the manifest
  const MAX_NOTICE = 150; // NotificationMessageDetails.message limit
  const SEND_BUDGET_MS = 8000; // longest a send waits for Engage (then it goes untouched)
  const MANUAL_ENGINE_WAIT_MS = 30000;
  const PREVIEW_ENGINE_WAIT_MS = 20000;
  const ME_MAX_AGE_MS = 5 * 60 * 1000;

  const Office = global.Office;

  function api() {
    return global.EngageApi || null;
  }

  // -- Office calls -------------------------------------------------------------------
  class OfficeFailure extends Error {
    constructor(error) {
      super((error && error.message) || "Outlook could not do that.");
      this.name = "OfficeFailure";
      this.code = error && (error.name || error.code);
    }
  }

  class TimedOut extends Error {
    constructor(what) {
      super(`${what} took too long`);
      this.name = "TimedOut";
      this.what = what;
    }
  }

  /** Why an email cannot be tracked, in words for the sender. */
  class NotTrackable extends Error {
    constructor(message) {
      super(message);
      this.name = "NotTrackable";
    }
  }

  /** Run an Office.js async method; resolve its value, reject on status Failed. */
  function officeAsync(start) {
    return new Promise((resolve, reject) => {
      start((result) => {
        if (result && result.status === Office.AsyncResultStatus.Succeeded) resolve(result.value);
        else reject(new OfficeFailure(result && result.error));
      });
    });
  }

  function within(promise, ms, what) {
    if (!ms) return promise;
    let timer;
    const limit = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new TimedOut(what)), ms);
    });
    return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
  }

  function isAppointment(item) {
    return item.itemType === Office.MailboxEnums.ItemType.Appointment;
  }

  async function recipientsOf(item) {
    const fields = isAppointment(item)
      ? [item.requiredAttendees, item.optionalAttendees]
      : [item.to, item.cc, item.bcc];
    const lists = await Promise.all(fields.filter(Boolean).map((field) => officeAsync((done) => field.getAsync(done))));
    const seen = new Set();
    const recipients = [];
    for (const details of lists.flat()) {
      const address = String(details.emailAddress || "").trim();
      if (!address || seen.has(address.toLowerCase())) continue;
      seen.add(address.toLowerCase());
      const name = details.displayName && details.displayName !== address ? details.displayName : "";
      recipients.push({ name, address });
    }
    return recipients;
  }

  const subjectOf = (item) => officeAsync((done) => item.subject.getAsync(done));
  const bodyTypeOf = (item) => officeAsync((done) => item.body.getTypeAsync(done));
  const bodyHtmlOf = (item) => officeAsync((done) => item.body.getAsync(Office.CoercionType.Html, done));
  const setBodyHtml = (item, html) =>
    officeAsync((done) => item.body.setAsync(html, { coercionType: Office.CoercionType.Html }, done));

  function newThreadId() {
    const random = global.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
    return `outlook-${random}`;
  }

  /** Outlook's conversation id, else one Engage keeps in the item's custom properties
   *  (a new message has no conversation id, an appointment never has one). */
  async function threadIdOf(item) {
    if (item.conversationId) return item.conversationId;
    try {
      const props = await officeAsync((done) => item.loadCustomPropertiesAsync(done));
      let id = props.get("engageThreadId");
      if (!id) {
        id = newThreadId();
        props.set("engageThreadId", id);
        await officeAsync((done) => props.saveAsync(done)).catch((error) => console.warn("Engage:", error));
      }
      return id;
    } catch (error) {
      return newThreadId();
    }
  }

  /** The item's EWS id, to open it later with displayMessageForm. A new draft has none
   *  until saved; the button saves it (the user asked for tracking), a send does not. */
  async function outlookItemIdOf(item, save) {
    if (typeof item.getItemIdAsync === "function") {
      try {
        return await officeAsync((done) => item.getItemIdAsync(done));
      } catch (error) {
        // ItemNotSaved: fall through.
      }
    }
    if (!save) return null;
    try {
      return await officeAsync((done) => item.saveAsync(done));
    } catch (error) {
      return null;
    }
  }

  function notice(item, key, type, message) {
    const details = { type, message: message.length > MAX_NOTICE ? `${message.slice(0, MAX_NOTICE - 1)}…` : message };
    if (type === Office.MailboxEnums.ItemNotificationMessageType.InformationalMessage) {
      details.icon = ICON;
      details.persistent = false;
    }
    return officeAsync((done) => item.notificationMessages.replaceAsync(key, details, done))
      .catch((error) => console.warn("Engage: notification not shown", error));
  }

  const informational = (item, message, key) =>
    notice(item, key || NOTICE_KEY, Office.MailboxEnums.ItemNotificationMessageType.InformationalMessage, message);
  const failure = (item, message) =>
    notice(item, NOTICE_KEY, Office.MailboxEnums.ItemNotificationMessageType.ErrorMessage, message);
  const progress = (item, message) =>
    notice(item, NOTICE_KEY, Office.MailboxEnums.ItemNotificationMessageType.ProgressIndicator, message);

  function clearNotice(item, key) {
    return officeAsync((done) => item.notificationMessages.removeAsync(key, done)).catch(() => {
      // No such notification: nothing to clear.
    });
  }

  // -- tracking one item ----------------------------------------------------------------
  let queue = Promise.resolve();

  /** Run ``task`` after the ones before it: one tracking operation at a time. */
  function oneAtATime(task) {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Register the item with the server and put the tracking image and tracked links in
   * its body. Answers {status: "tracked"|"already"|"skipped"|"abandoned", ...}; throws
   * NotTrackable (words for the sender) or what failed.
   */
  async function track(item, options) {
    const engage = api();
    if (!engage) throw new NotTrackable("This Outlook cannot run Engage's tracking: use Outlook on the web or the new Outlook.");
    if (!engage.token()) throw new NotTrackable("Sign in to Engage first: open the Engagement pane and sign in.");
    const type = await bodyTypeOf(item);
    const engine = await within(engage.engineReady(), options.engineWaitMs, "Starting Engage");
    if (type !== Office.CoercionType.Html) throw new NotTrackable(engine.call("not_html_message", "plain_text"));
    const body = await bodyHtmlOf(item);
    const info = engine.call("inspect_body", body, engage.publicUrl());
    if (info.reason) throw new NotTrackable(info.reason);
    if (info.pixel) return { status: "already" };

    const [recipients, subject, me] = await Promise.all([
      recipientsOf(item),
      subjectOf(item),
      engage.me(options.meOptions),
    ]);
    if (options.mode === "auto") {
      const { decision } = engine.call("auto_insert", recipients, me.org, me.settings);
      if (!decision.applies) return { status: "skipped", reason: decision.reason };
    } else if (!recipients.length) {
      throw new NotTrackable("Add a recipient first, then track this email.");
    }
    const threadId = await threadIdOf(item);
    const outlookId = await outlookItemIdOf(item, options.mode === "manual");
    if (options.abandoned()) return { status: "abandoned" };
    const message = await engage.request("POST", "/messages", {
      subject: subject || "",
      recipients,
      thread_id: threadId,
      mode: options.mode,
      client: "outlook",
      kind: isAppointment(item) ? "meeting" : "email",
      links: info.links,
      client_message_id: outlookId,
    }, { timeoutMs: options.requestTimeoutMs });
    engage.rememberOutlookId(message.id, outlookId);

    const where = engine.call("insert_position", engage.paneOpen(), me.settings);
    // The sender may have typed while the server answered: edit the body as it is now.
    const current = await bodyHtmlOf(item);
    const updated = engine.call("tracked_body", current, message.pixel_url, where, message.links);
    if (options.abandoned()) return { status: "abandoned" };
    await setBodyHtml(item, updated);
    engage.announceTracked(message.id);
    return { status: "tracked", where, message };
  }

  function wordsFor(error) {
    if (error instanceof NotTrackable) return error.message;
    if (error instanceof TimedOut) return "Engage is still starting. Try again in a moment.";
    if (error && error.name === "EngageError" && error.fromServer) {
      if (error.status === 401) return "Your Engage sign-in has ended. Sign in again in the Engagement pane.";
      return `Engage could not register this email: ${error.message}`;
    }
    if (error instanceof OfficeFailure) return `Outlook did not let Engage change this email: ${error.message}`;
    return `Engage could not track this email: ${(error && error.message) || error}`;
  }

  // -- the button -----------------------------------------------------------------------
  function trackEmailOpens(event) {
    const item = Office.context.mailbox.item;
    oneAtATime(async () => {
      try {
        await progress(item, "Engage is adding tracking to this email…");
        const result = await track(item, {
          mode: "manual",
          engineWaitMs: MANUAL_ENGINE_WAIT_MS,
          requestTimeoutMs: 15000,
          meOptions: { timeoutMs: 15000 },
          abandoned: () => false,
        });
        if (result.status === "already") {
          await informational(item, "Engage already tracks opens of this email.");
        } else {
          await informational(item, `Engage will track opens of this email (tracking image on the ${result.where} line).`);
        }
      } catch (error) {
        console.warn("Engage: not tracked", error);
        await failure(item, wordsFor(error));
      }
    }).finally(() => event.completed());
  }

  // -- launch events ----------------------------------------------------------------------
  /** Say whether the email will be tracked automatically when sent; never complain. */
  async function previewAutoTracking(item) {
    const engage = api();
    if (!engage || !engage.token()) return;
    try {
      const engine = await within(engage.engineReady(), PREVIEW_ENGINE_WAIT_MS, "Starting Engage");
      const [recipients, me] = await Promise.all([
        recipientsOf(item),
        engage.me({ maxAgeMs: ME_MAX_AGE_MS, staleOk: true, timeoutMs: 10000 }),
      ]);
      const { decision } = engine.call("auto_insert", recipients, me.org, me.settings);
      if (decision.applies) {
        const people = decision.external === 1 ? "1 external recipient" : `${decision.external} external recipients`;
        await informational(item, `Engage will track opens of this email when you send it (${people}).`, PREVIEW_KEY);
      } else {
        await clearNotice(item, PREVIEW_KEY);
      }
    } catch (error) {
      console.warn("Engage: no automatic-tracking preview", error);
    }
  }

  function onNewComposeHandler(event) {
    const item = Office.context.mailbox.item;
    previewAutoTracking(item).finally(() => event.completed());
  }

  function onRecipientsChangedHandler(event) {
    const item = Office.context.mailbox.item;
    previewAutoTracking(item).finally(() => event.completed());
  }

  function sendBudgetMs() {
    const override = Number(global.ENGAGE_SEND_BUDGET_MS);
    return override > 0 ? override : SEND_BUDGET_MS;
  }

  /** Track automatically on send when the recipients call for it. Always lets the
   *  email go: {allowEvent: true} on every path, by the budget's end at the latest. */
  function onSendHandler(event) {
    const item = Office.context.mailbox.item;
    const budget = sendBudgetMs();
    let finished = false;
    let watchdog = null;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(watchdog);
      event.completed({ allowEvent: true });
    };
    watchdog = setTimeout(finish, budget);
    const engage = api();
    if (!engage || !engage.token()) {
      finish();
      return;
    }
    oneAtATime(() => track(item, {
      mode: "auto",
      engineWaitMs: budget,
      requestTimeoutMs: budget,
      meOptions: { maxAgeMs: ME_MAX_AGE_MS, staleOk: true, timeoutMs: budget },
      abandoned: () => finished,
    }))
      .then((result) => {
        if (result.status === "skipped") console.info("Engage: not tracked automatically:", result.reason);
      }, (error) => console.warn("Engage: sent without tracking", error))
      .finally(finish);
  }

  if (Office && Office.actions) {
    Office.actions.associate("trackEmailOpens", trackEmailOpens);
    Office.actions.associate("onNewComposeHandler", onNewComposeHandler);
    Office.actions.associate("onRecipientsChangedHandler", onRecipientsChangedHandler);
    Office.actions.associate("onSendHandler", onSendHandler);
  }
  if (Office && typeof Office.onReady === "function") Office.onReady(() => undefined);
})(typeof window !== "undefined" ? window : globalThis);
