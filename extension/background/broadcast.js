// Telling open extension pages (side panel, options) and Gmail tabs that something
// changed. Nobody has to be listening.
import "../shared/messages.js";

const { TARGET, MSG, notify } = globalThis.EngageMessages;

export function toPages(id, payload = {}) {
  notify(TARGET.PAGES, id, payload);
}

/** What a Gmail tab's content script needs to know about the user. */
export function gmailContext(session) {
  if (!session) return { signedIn: false, publicUrl: "", autoInsert: true };
  return {
    signedIn: true,
    publicUrl: session.me.public_url,
    autoInsert: Boolean(session.me.settings?.auto_insert),
  };
}

export async function toGmailTabs(session) {
  const tabs = await chrome.tabs.query({ url: "https://mail.google.com/*" });
  for (const tab of tabs) notify(TARGET.GMAIL, MSG.CONTEXT_CHANGED, gmailContext(session), { tabId: tab.id });
}
