// Engage's UI-less runtime: the "Track Email Opens" button (a function command) and the
// launch events (OnNewMessageCompose, OnMessageRecipientsChanged, OnMessageSend and
// their appointment twins). Loaded by commands.html after shared/strings.js and shared/engage_api.js,
// with engine.mjs booting client_py in Pyodide beside it.
//
// Outlook's body API loses content in known cases (docs/addin.md: office-js #6808,
// #6944, #4392, #5430), so Engage never writes the whole body back where it can avoid it:
// - the tracking image is queued at compose time, when the email becomes tracked (the
//   button, or recipients that call for automatic tracking), with appendOnSendAsync
//   (last line, Mailbox 1.9) or prependOnSendAsync (first line, 1.13): Outlook adds it
//   when the email is sent and the body is never read back and rewritten for it;
// - the pixel's token is chosen here and kept in the item's custom properties; the
//   email is registered on the server only when it is sent, with that token, so a
//   draft never sent leaves nothing behind;
// - links are rewritten at send by a whole-body write only when nothing known speaks
//   against one (engage_addin.rewrite_risk); the body is then read back and compared
//   (engage_addin.preserved); on any loss the original is put back and the email goes
//   with its image but untracked links, with a notice saying why;
// - every Office call has its own time limit, one operation runs at a time and waits
//   for the one before at most a few seconds, and every handler ends in
//   event.completed(...), the send handler within SEND_BUDGET_MS whatever happens.
// In classic Outlook on Windows this file runs alone (the JavaScript-only runtime):
// without engage_api.js and the engine, every handler completes at once; the button, which
// runs in a browser there, says Engage cannot track in that Outlook rather than queue an
// image no send handler would register. On a Mac nothing is queued on send (office-js
// #3598: Outlook for Mac then drops the email's file attachments): the image is written
// at send, checked, like the links.
(function (global) {
  "use strict";

  const NOTICE_KEY = "engage"; // result of the button (one notification slot)
  const PREVIEW_KEY = "engageAuto"; // "will be tracked when sent" from the launch events
  const STATE_KEY = "engage"; // the item's custom property: {token, where, queued, mode, outlookId}
  const THREAD_KEY = "engageThreadId";
  const ICON = "Icon.16x16"; // a bt:Image id of the manifest
  const MAX_NOTICE = 150; // NotificationMessageDetails.message limit
  const SEND_BUDGET_MS = 2500; // the send handler always completes within this
  const SEND_QUEUE_WAIT_MS = 1000; // a send waits this long at most for an operation before it
  const QUEUE_WAIT_MS = 8000; // any other operation waits this long at most
  const SEND_CALL_MS = 1000; // one Office call during a send
  const COMPOSE_CALL_MS = 5000; // one Office call otherwise
  const MANUAL_ENGINE_WAIT_MS = 30000;
  const PREVIEW_ENGINE_WAIT_MS = 20000;
  const ME_MAX_AGE_MS = 5 * 60 * 1000;
  const ADDRESS = /^[^\s@/]+@[^\s@]+\.[^\s@.]+$/; // local@domain.tld, as the server accepts
  const MAX_RECIPIENTS = 500; // POST /messages takes at most 500

  const Office = global.Office;

  function api() {
    return global.EngageApi || null;
  }

  /** The add-in's words (strings.js); the JavaScript-only runtime has only this one. */
  function t(key, params) {
    if (global.EngageStrings) return global.EngageStrings.t(key, params);
    return "This Outlook cannot run Engage's tracking: use Outlook on the web or the new Outlook.";
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

  /**
   * Run one Office.js async method: resolve its value, reject on status Failed, on an
   * exception thrown instead of an answer (office-js #6263), and when no answer came
   * within ``ms`` (#4868, #5845: some callbacks are never called).
   */
  function officeAsync(what, start, ms) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new TimedOut(what)), ms);
      try {
        start((result) => {
          clearTimeout(timer);
          if (result && result.status === Office.AsyncResultStatus.Succeeded) resolve(result.value);
          else reject(new OfficeFailure(result && result.error));
        });
      } catch (error) {
        clearTimeout(timer);
        reject(new OfficeFailure(error));
      }
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

  async function recipientsOf(item, ms) {
    const fields = isAppointment(item)
      ? [["requiredAttendees", item.requiredAttendees], ["optionalAttendees", item.optionalAttendees]]
      : [["to", item.to], ["cc", item.cc], ["bcc", item.bcc]];
    const lists = await Promise.all(fields.filter(([, field]) => field)
      .map(([name, field]) => officeAsync(name, (done) => field.getAsync(done), ms)));
    const seen = new Set();
    const recipients = [];
    for (const details of lists.flat()) {
      const address = String(details.emailAddress || "").trim();
      // Outlook on the web gives a colleague saved in the user's contacts by their
      // Exchange DN ("/o=ExchangeLabs/...", office-js #3701, open), which is no address:
      // the server would refuse the whole registration for it, after the image went out.
      if (!ADDRESS.test(address) || seen.has(address.toLowerCase())) continue;
      seen.add(address.toLowerCase());
      const name = details.displayName && details.displayName !== address ? details.displayName : "";
      recipients.push({ name, address });
    }
    return recipients.slice(0, MAX_RECIPIENTS);
  }

  const subjectOf = (item, ms) => officeAsync("subject", (done) => item.subject.getAsync(done), ms);
  const bodyTypeOf = (item, ms) => officeAsync("body type", (done) => item.body.getTypeAsync(done), ms);
  const bodyHtmlOf = (item, ms) =>
    officeAsync("reading the body", (done) => item.body.getAsync(Office.CoercionType.Html, done), ms);
  const setBodyHtml = (item, html, ms) => officeAsync("writing the body",
    (done) => item.body.setAsync(html, { coercionType: Office.CoercionType.Html }, done), ms);

  /** Office.context.platform: "OfficeOnline" (the web, new Outlook on Windows), "PC"
   *  (classic Outlook on Windows only), "Mac". */
  function platformOf() {
    return Office.context.platform || (Office.context.diagnostics || {}).platform || null;
  }

  /** Classic Outlook on Windows runs launch events in its JavaScript-only runtime, which
   *  loads this file alone: no send handler there can register an email, so an image
   *  queued by the button would go out and count for nothing (docs/addin.md). */
  const classicWindows = () => platformOf() === "PC";
  /** Outlook for Mac: an image queued with appendOnSendAsync/prependOnSendAsync makes it
   *  send the email without its file attachments (office-js #3598, open; before it #3372:
   *  the image became an attachment), and saveAsync breaks inline images (#2383). */
  const onMac = () => platformOf() === "Mac";

  /** The on-send method that puts content at ``where``, or null when Outlook has none
   *  (or, on a Mac, none that is safe: the image is then written at send, checked). */
  function onSendMethod(item, where) {
    if (onMac()) return null;
    const requirements = Office.context.requirements;
    const needs = where === "first" ? ["prependOnSendAsync", "1.13"] : ["appendOnSendAsync", "1.9"];
    const supported = !requirements || requirements.isSetSupported("Mailbox", needs[1]);
    return supported && typeof item.body[needs[0]] === "function" ? needs[0] : null;
  }

  function queueOnSend(item, where, html, ms) {
    const method = onSendMethod(item, where);
    return officeAsync("adding the tracking image",
      (done) => item.body[method](html, { coercionType: Office.CoercionType.Html }, done), ms);
  }

  /** The item's custom properties and Engage's state in them. */
  async function loadState(item, ms) {
    const props = await officeAsync("custom properties", (done) => item.loadCustomPropertiesAsync(done), ms);
    let state = null;
    try {
      state = JSON.parse(props.get(STATE_KEY) || "null");
    } catch (error) {
      state = null;
    }
    return { props, state };
  }

  function saveState(props, state, ms) {
    if (state) props.set(STATE_KEY, JSON.stringify(state));
    else props.remove(STATE_KEY);
    return officeAsync("saving custom properties", (done) => props.saveAsync(done), ms);
  }

  function randomId(bytes) {
    const data = new Uint8Array(bytes);
    global.crypto.getRandomValues(data);
    return btoa(String.fromCharCode(...data)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  /** Outlook's conversation id, else one Engage keeps in the item's custom properties
   *  (a new message has no conversation id, an appointment never has one). */
  async function threadIdOf(item, props, ms) {
    if (item.conversationId) return item.conversationId;
    let id = props && props.get(THREAD_KEY);
    if (!id) {
      id = `outlook-${randomId(16)}`;
      if (props) {
        props.set(THREAD_KEY, id);
        await officeAsync("saving custom properties", (done) => props.saveAsync(done), ms)
          .catch((error) => console.warn("Engage:", error));
      }
    }
    return id;
  }

  /** The item's EWS id, to open it later with displayMessageForm. A new draft has none
   *  until saved; the button saves it (the user asked for tracking), a send does not. */
  async function outlookItemIdOf(item, save, ms) {
    if (typeof item.getItemIdAsync === "function") {
      try {
        return await officeAsync("item id", (done) => item.getItemIdAsync(done), ms);
      } catch (error) {
        // ItemNotSaved: fall through.
      }
    }
    if (!save || onMac()) return null; // #2383: saveAsync on a Mac breaks inline images
    try {
      return await officeAsync("saving the draft", (done) => item.saveAsync(done), ms);
    } catch (error) {
      return null;
    }
  }

  function notice(item, key, type, message, ms) {
    const details = { type, message: message.length > MAX_NOTICE ? `${message.slice(0, MAX_NOTICE - 1)}…` : message };
    if (type === Office.MailboxEnums.ItemNotificationMessageType.InformationalMessage) {
      details.icon = ICON;
      details.persistent = false;
    }
    return officeAsync("notification", (done) => item.notificationMessages.replaceAsync(key, details, done),
      ms || COMPOSE_CALL_MS).catch((error) => console.warn("Engage: notification not shown", error));
  }

  const Types = () => Office.MailboxEnums.ItemNotificationMessageType;
  const informational = (item, message, key, ms) => notice(item, key || NOTICE_KEY, Types().InformationalMessage, message, ms);
  const failure = (item, message) => notice(item, NOTICE_KEY, Types().ErrorMessage, message);
  const progress = (item, message) => notice(item, NOTICE_KEY, Types().ProgressIndicator, message);

  function clearNotice(item, key) {
    return officeAsync("notification", (done) => item.notificationMessages.removeAsync(key, done), COMPOSE_CALL_MS)
      .catch(() => {
        // No such notification: nothing to clear.
      });
  }

  // -- one operation at a time --------------------------------------------------------
  let queue = Promise.resolve();
  let sending = 0; // send handlers running: a compose-time operation must not queue a pixel now

  /** Run ``task`` after the ones before it, or after ``waitMs`` if they are stuck. */
  function oneAtATime(task, waitMs) {
    const run = within(queue, waitMs, "Waiting for Engage").catch(() => undefined).then(task);
    queue = run.catch(() => undefined);
    return run;
  }

  // -- compose time: decide, queue the image ------------------------------------------
  /**
   * Make the email tracked when it is sent: queue its tracking image. Answers
   * {status: "queued"|"already"|"skipped"|"plain"|"unqueued", where, decision}; throws
   * NotTrackable (words for the sender) or what failed.
   */
  async function prepare(item, options) {
    const engage = api();
    if (!engage || classicWindows()) throw new NotTrackable(t("notice.noRuntime"));
    if (!engage.token()) throw new NotTrackable(t("notice.signIn"));
    engage.flushRegistrations();
    const ms = COMPOSE_CALL_MS;
    const type = await bodyTypeOf(item, ms);
    const engine = await within(engage.engineReady(), options.engineWaitMs, "Starting Engage");
    const [recipients, me, loaded] = await Promise.all([
      recipientsOf(item, ms),
      engage.me(options.meOptions),
      loadState(item, ms),
    ]);
    const { props, state } = loaded;
    let decision = null;
    if (options.mode === "auto") {
      ({ decision } = engine.call("auto_insert", recipients, me.org, me.settings));
      if (!decision.applies) {
        if (state && state.token && state.mode === "auto") {
          await unqueue(item, props, state, ms);
          return { status: "unqueued", decision };
        }
        return { status: "skipped", decision };
      }
    } else if (!recipients.length) {
      throw new NotTrackable(t("notice.noRecipient"));
    }
    if (type !== Office.CoercionType.Html) {
      if (options.mode === "auto") return { status: "plain", decision };
      throw new NotTrackable(t(type === "text" ? "notice.plainText" : "notice.richText"));
    }
    if (state && state.token) {
      // Pressed on an email tracked automatically: the sender's choice now, kept whatever
      // the recipients become.
      if (options.mode === "manual" && state.mode === "auto") await saveState(props, { ...state, mode: "manual" }, ms);
      return { status: "already", where: state.where, decision };
    }
    const body = await bodyHtmlOf(item, ms);
    if (engine.call("inspect_body", body, engage.publicUrl()).pixel) return { status: "already", decision };

    const where = engine.call("insert_position", engage.paneOpen(), me.settings);
    const token = randomId(18);
    const fresh = { token, where, mode: options.mode, queued: false };
    if (options.mode === "manual") fresh.outlookId = await outlookItemIdOf(item, true, ms);
    if (sending) throw new NotTrackable(t("notice.starting")); // the email is being sent: too late
    if (onSendMethod(item, where)) {
      // Saved before it is queued: a send that starts in between finds the token and,
      // not knowing whether the image went in, registers it (an image is never orphaned).
      await saveState(props, { ...fresh, queued: "pending" }, ms);
      try {
        await queueOnSend(item, where, engine.call("snippet", `${engage.publicUrl()}/p/${token}.gif`), ms);
      } catch (error) {
        await saveState(props, null, ms).catch(() => undefined);
        throw error;
      }
      fresh.queued = true;
    }
    // Without append-on-send (Mailbox before 1.9), the send writes the image into the
    // body itself, when nothing speaks against a whole-body write.
    await saveState(props, fresh, ms);
    return { status: "queued", where, decision };
  }

  /** Take a queued image out again (the recipients no longer call for tracking). */
  async function unqueue(item, props, state, ms) {
    const method = state.queued && onSendMethod(item, state.where);
    if (method) {
      await officeAsync("removing the tracking image",
        (done) => item.body[method](null, { coercionType: Office.CoercionType.Html }, done), ms);
    }
    await saveState(props, null, ms);
  }

  function wordsFor(error) {
    if (error instanceof NotTrackable) return error.message;
    if (error instanceof TimedOut) return t("notice.starting");
    if (error && error.name === "EngageError" && error.fromServer) {
      if (error.status === 401) return t("notice.signedOut");
      return t("notice.apiError", { message: error.message });
    }
    if (error instanceof OfficeFailure) return t("notice.officeError", { message: error.message });
    return t("notice.error", { message: (error && error.message) || error });
  }

  // -- the button -----------------------------------------------------------------------
  function trackEmailOpens(event) {
    const item = Office.context.mailbox.item;
    oneAtATime(async () => {
      try {
        await progress(item, t("notice.adding"));
        const result = await prepare(item, {
          mode: "manual",
          engineWaitMs: MANUAL_ENGINE_WAIT_MS,
          meOptions: { timeoutMs: 15000 },
        });
        if (result.status === "already") await informational(item, t("notice.already"));
        else await informational(item, t(result.where === "first" ? "notice.tracked.first" : "notice.tracked.last"));
      } catch (error) {
        console.warn("Engage: not tracked", error);
        await failure(item, wordsFor(error));
      }
    }, QUEUE_WAIT_MS).finally(() => event.completed());
  }

  // -- launch events ----------------------------------------------------------------------
  /** Queue the image when the recipients call for automatic tracking, take it out when
   *  they no longer do, and say truthfully what will happen when the email is sent. */
  async function autoTrack(item) {
    const engage = api();
    if (!engage || !engage.token()) return;
    try {
      const result = await prepare(item, {
        mode: "auto",
        engineWaitMs: PREVIEW_ENGINE_WAIT_MS,
        meOptions: { maxAgeMs: ME_MAX_AGE_MS, staleOk: true, timeoutMs: 10000 },
      });
      const decision = result.decision;
      if (result.status === "plain") {
        await informational(item, t("notice.plainText"), PREVIEW_KEY);
      } else if (result.status === "queued" || (result.status === "already" && decision)) {
        const count = decision.external;
        await informational(item, count === 1 ? t("notice.auto.one") : t("notice.auto.many", { count }), PREVIEW_KEY);
      } else {
        await clearNotice(item, PREVIEW_KEY);
      }
    } catch (error) {
      console.warn("Engage: no automatic tracking prepared", error);
    }
  }

  function onNewComposeHandler(event) {
    const item = Office.context.mailbox.item;
    oneAtATime(() => autoTrack(item), QUEUE_WAIT_MS).finally(() => event.completed());
  }

  function onRecipientsChangedHandler(event) {
    const item = Office.context.mailbox.item;
    oneAtATime(() => autoTrack(item), QUEUE_WAIT_MS).finally(() => event.completed());
  }

  // -- send -------------------------------------------------------------------------------
  function sendBudgetMs() {
    const override = Number(global.ENGAGE_SEND_BUDGET_MS);
    return override > 0 ? override : SEND_BUDGET_MS;
  }

  const RISK_WORDS = {
    inline_images: "sent.linksInlineImages",
    cloud_links: "sent.linksInlineImages",
    mac: "sent.linksMac",
    too_large: "sent.linksTooLarge",
  };
  const UNTRACKED_WORDS = {
    starting: "sent.reason.starting",
    inline_images: "sent.reason.inlineImages",
    cloud_links: "sent.reason.inlineImages",
    mac: "sent.reason.inlineImages",
    too_large: "sent.reason.tooLarge",
  };

  /**
   * What to do when the email is sent: register it if it carries (or will carry) its
   * image, and rewrite its links if that is safe. Answers {allow, notice}: allow false
   * only when Outlook changed the sender's text and it could not be put back exactly.
   */
  async function onSend(item, deadline) {
    const left = () => Math.max(50, deadline - Date.now());
    const call = () => Math.min(SEND_CALL_MS, left());
    const engage = api();
    engage.flushRegistrations();
    const { props, state } = await loadState(item, call());
    if (!state || !state.token) return { allow: true }; // not tracked: decided at compose time
    const warm = engage.engineState() === "ready";
    const engine = warm ? await engage.engineReady() : null;
    const platform = platformOf();

    const [recipients, subject] = await Promise.all([recipientsOf(item, call()), subjectOf(item, call())]);
    // Without Python (still starting) nothing is rewritten: the queued image goes alone.
    let original = null;
    let risk = warm ? null : "starting";
    let found = [];
    if (warm) {
      original = await bodyHtmlOf(item, call());
      risk = engine.call("rewrite_risk", original, platform);
      found = engine.call("inspect_body", original, engage.publicUrl()).links;
    }
    const links = risk ? [] : found;
    if (!state.queued && risk) {
      // No image queued (an Outlook without append-on-send) and no safe way to add one.
      await saveState(props, null, call()).catch(() => undefined);
      return { allow: true, notice: t("sent.untracked", { reason: t(UNTRACKED_WORDS[risk]) }) };
    }
    const payload = {
      subject: subject || "",
      recipients,
      thread_id: await threadIdOf(item, props, call()),
      mode: state.mode,
      client: "outlook",
      kind: isAppointment(item) ? "meeting" : "email",
      links,
      client_message_id: state.outlookId || (await outlookItemIdOf(item, false, call())),
      pixel_token: state.token,
    };
    let message;
    try {
      message = await engage.request("POST", "/messages", payload, { timeoutMs: left() });
    } catch (error) {
      if (state.queued && (error.status === 0 || error.status >= 500)) {
        // The image goes out with the email: register it when the server answers again.
        engage.queueRegistration({ ...payload, links: [] });
        return { allow: true };
      }
      throw error; // nothing was written: the email goes untouched
    }
    engage.rememberOutlookId(message.id, payload.client_message_id);
    engage.announceTracked(message.id);
    if (state.queued && !links.length) {
      // Nothing to write. Say why links stay untracked, if there were any.
      return { allow: true, notice: risk && risk !== "starting" && found.length ? t(RISK_WORDS[risk]) : null };
    }
    const updated = state.queued
      ? engine.call("rewritten_body", original, message.links)
      : engine.call("tracked_body", original, message.pixel_url, state.where, message.links);
    const outcome = await writeChecked(item, engine, original, updated, call);
    if (outcome === "kept") return { allow: true };
    if (!state.queued) {
      // The image did not go in: withdraw the registration (no "Not opened yet" forever).
      await engage.request("DELETE", `/messages/${message.id}`, undefined, { timeoutMs: left() })
        .catch((error) => console.warn("Engage: registration not withdrawn", error));
    }
    if (outcome === "restored") {
      return { allow: true, notice: state.queued ? t("sent.linksRestored") : t("sent.untracked", { reason: t("sent.reason.changed") }) };
    }
    return { allow: false, notice: t("sent.blocked") };
  }

  /**
   * Write ``updated`` and read it back; on any loss put ``original`` back. Answers
   * "kept" (Outlook holds ``updated``), "restored" (it holds ``original`` again) or
   * "lost" (neither).
   */
  async function writeChecked(item, engine, original, updated, call) {
    const holds = async (expected) => {
      try {
        return engine.call("preserved", expected, await bodyHtmlOf(item, call()));
      } catch (error) {
        return false; // could not read it back: assume the worst
      }
    };
    try {
      await setBodyHtml(item, updated, call());
    } catch (error) {
      // Failed, threw or never answered: it may or may not have been written.
      console.warn("Engage: links not rewritten", error);
    }
    if (await holds(updated)) return "kept";
    if (await holds(original)) return "restored";
    try {
      await setBodyHtml(item, original, call());
    } catch (error) {
      console.warn("Engage: original not put back", error);
    }
    return (await holds(original)) ? "restored" : "lost";
  }

  /** Register and finish the email on send. Completes within the budget on every path:
   *  {allowEvent: true}, or false (with Outlook's prompt) only when the sender's text was
   *  changed and could not be put back. */
  function onSendHandler(event) {
    const item = Office.context.mailbox.item;
    const budget = sendBudgetMs();
    const deadline = Date.now() + budget;
    let finished = false;
    let watchdog = null;
    const finish = (options) => {
      if (finished) return;
      finished = true;
      clearTimeout(watchdog);
      sending = Math.max(0, sending - 1);
      event.completed(options || { allowEvent: true });
    };
    watchdog = setTimeout(() => finish({ allowEvent: true }), budget);
    const engage = api();
    if (!engage || !engage.token()) {
      finish();
      return;
    }
    sending += 1;
    oneAtATime(() => onSend(item, deadline - 150), SEND_QUEUE_WAIT_MS)
      .then(async (result) => {
        if (result.notice) {
          engage.leaveNotice(result.notice);
          if (result.allow) await within(informational(item, result.notice, NOTICE_KEY, 300), 400).catch(() => undefined);
        }
        if (result.allow) finish({ allowEvent: true });
        else finish({ allowEvent: false, errorMessage: result.notice });
      }, (error) => {
        console.warn("Engage: sent without tracking", error);
        finish({ allowEvent: true });
      });
  }

  if (Office && Office.actions) {
    Office.actions.associate("trackEmailOpens", trackEmailOpens);
    Office.actions.associate("onNewComposeHandler", onNewComposeHandler);
    Office.actions.associate("onRecipientsChangedHandler", onRecipientsChangedHandler);
    Office.actions.associate("onSendHandler", onSendHandler);
  }
  if (Office && typeof Office.onReady === "function") Office.onReady(() => undefined);
})(typeof window !== "undefined" ? window : globalThis);
