// Opening a tracked email from the panel: in Outlook's own reading form, or in Outlook
// on the web from the plain-browser panel. Opening it loads its tracking image through
// Outlook, so the server is told first that this is the sender, not a read.
import { Api, state, t, toast } from "./view.mjs";

export function threadOf(threadId) {
  return state.threads.find((t) => t.thread_id === threadId) || null;
}

/** The Outlook item id of a tracked email: the server's, else the one this browser kept. */
function outlookIdOf(thread, messageId) {
  const message = thread && (thread.messages || []).find((m) => m.id === messageId);
  return (message && message.client_message_id) || Api.outlookIdFor(messageId);
}

export async function openEmail(threadId, messageId) {
  const itemId = outlookIdOf(threadOf(threadId), messageId);
  // Opening it loads its tracking image through Outlook: that is the sender, not a read.
  const selfView = Api.request("POST", "/threads/self-view", { thread_id: threadId }).catch(() => undefined);
  if (state.inOutlook) {
    if (!itemId) {
      toast(t("pane.open.elsewhere"));
      return;
    }
    await selfView;
    try {
      Office.context.mailbox.displayMessageForm(itemId);
    } catch (error) {
      toast(t("pane.open.failed", { message: error.message }));
    }
    return;
  }
  await selfView;
  const url = itemId
    ? `https://outlook.office.com/owa/?ItemID=${encodeURIComponent(itemId)}&exvsurl=1&viewmodel=ReadMessageItem`
    : "https://outlook.office.com/mail/sentitems";
  window.open(url, "_blank", "noopener");
}
