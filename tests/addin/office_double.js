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
  const PlatformType = { OfficeOnline: "OfficeOnline" };

  const calls = []; // every API call, in order: [name, ...args summary]
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

  function answer(callback, options, status, value, error) {
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
    };
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
        fail(callback, options, "DataExceedsMaximumSize", "The data parameter is longer than 1,000,000 characters.");
        return null;
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
        succeed(callback, options, value);
      },
      setAsync(data, options, callback) {
        [options, callback] = split(options, callback);
        calls.push(["body.setAsync", options.coercionType || null]);
        const value = checkedData(data, options, callback);
        if (value === null) return;
        state.body = value;
        succeed(callback, options);
      },
      prependAsync(data, options, callback) {
        [options, callback] = split(options, callback);
        calls.push(["body.prependAsync", options.coercionType || null]);
        const value = checkedData(data, options, callback);
        if (value === null) return;
        const open = state.format === "html" ? /<body[^>]*>/i.exec(state.body) : null;
        const at = open ? open.index + open[0].length : 0;
        state.body = state.body.slice(0, at) + value + state.body.slice(at);
        succeed(callback, options);
      },
      appendOnSendAsync(data, options, callback) {
        [options, callback] = split(options, callback);
        calls.push(["body.appendOnSendAsync", options.coercionType || null]);
        if (data !== null && typeof data === "string" && data.length > 5000) {
          fail(callback, options, "DataExceedsMaximumSize", "The data parameter is longer than 5,000 characters.");
          return;
        }
        if (options.coercionType === CoercionType.Html && state.format === "text") {
          fail(callback, options, "InvalidFormatError",
            "The options.coercionType parameter is set to Office.CoercionType.Html but the message body is in plain text.");
          return;
        }
        state.appendOnSend = data === null ? [] : state.appendOnSend.concat([data]);
        succeed(callback, options);
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
        return undefined; // compose mode: use getItemIdAsync
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
    return { item, state };
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

  const mailbox = {
    get item() {
      return current.item;
    },
    userProfile: Object.assign({ displayName: "Ann Sender", emailAddress: "ann@acme.example", timeZone: "UTC" },
      config.userProfile || {}),
    diagnostics: { hostName: "OutlookWebApp", hostVersion: "double" },
    displayMessageForm(itemId) {
      calls.push(["displayMessageForm", itemId]);
      if (typeof itemId !== "string" || !itemId) throw new Error("Sys.ArgumentException: itemId");
      displayed.push(itemId);
    },
  };

  const ready = new Promise((resolve) => later(resolve));
  const readyInfo = { host: HostType.Outlook, platform: PlatformType.OfficeOnline };

  const Office = {
    AsyncResultStatus,
    CoercionType,
    MailboxEnums,
    HostType,
    PlatformType,
    context: {
      mailbox,
      roamingSettings,
      requirements: {
        isSetSupported(name, version) {
          const supported = { Mailbox: 1.14 };
          return name in supported && (version === undefined || parseFloat(version) <= supported[name]);
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
          if (extra && extra.type && /Send$/.test(extra.type)) {
            if (options && options.allowEvent === false) current.state.sendBlocked = options;
            else {
              current.state.sent = true;
              for (const data of current.state.appendOnSend) {
                current.state.body += current.state.format === "html" ? data : `\n${data}`;
              }
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
    };
  }

  window.Office = Office;
  window.__officeDouble = {
    setItem(spec) {
      current = makeItem(spec);
      return snapshot();
    },
    item: snapshot,
    calls: () => calls.slice(),
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
