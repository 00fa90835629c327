// Replies: the content script says which messages the open conversation shows
// (content/reply_watch.js); those from someone else than the user, after the user's
// tracked email, are reported to the server (POST /threads/replies), which keeps the
// ones from the thread's recipients, once per Gmail message id (client_py.replies).
import "../shared/messages.js";
import { sessionCall } from "./api.js";
import * as broadcast from "./broadcast.js";
import { threadForGmailId } from "./self_view.js";
import * as store from "./store.js";

const { MSG } = globalThis.EngageMessages;
const settled = new Set(); // Gmail message ids the server answered for (stored or refused)

/** The thread id the server knows for a Gmail conversation, and when this browser
 * first tracked an email in it (null when it did not). */
async function trackedThread(gmailThreadId) {
  const alias = await threadForGmailId(gmailThreadId);
  const threadId = alias || gmailThreadId;
  const times = Object.values(await store.sentEmails())
    .filter((entry) => entry.thread_id === threadId).map((entry) => entry.at);
  return times.length ? { threadId, sentAt: Math.min(...times) } : null;
}

/** Which of a conversation's messages (oldest first) may be replies to the tracked email. */
export function candidates(messages, me, sentAt) {
  const own = messages.findIndex((m) => m.from === me);
  return messages.filter((m, index) => m.from !== me
    && ((own >= 0 && index > own) || (m.at && Date.parse(m.at) > sentAt)));
}

export async function reportReplies({ gmailThreadId = "", messages = [] }) {
  const session = await store.getSession();
  if (!session || !gmailThreadId) return { reported: [] };
  const tracked = await trackedThread(gmailThreadId);
  if (!tracked) return { reported: [] };
  const me = String(session.me.user?.email || "").toLowerCase();
  const reported = [];
  for (const message of candidates(messages, me, tracked.sentAt)) {
    if (settled.has(message.id)) continue;
    const body = { thread_id: tracked.threadId, message_id: message.id, from: message.from,
      from_name: message.name || "" };
    if (message.at) body.at = message.at;
    try {
      const answer = await sessionCall(session, "POST", "/threads/replies", { body });
      settled.add(message.id);
      if (answer.created) reported.push(message.id);
    } catch (error) {
      // 4xx: not a reply (not a recipient, before the email) or not our thread: settled.
      const status = error.details?.status || 0;
      if (status >= 400 && status < 500 && status !== 401 && status !== 429) settled.add(message.id);
    }
  }
  if (reported.length) broadcast.toPages(MSG.ENGAGEMENT, { reply: { thread_id: tracked.threadId } });
  await store.setDiagnostic("lastReplies", { thread_id: tracked.threadId, reported, at: Date.now() });
  return { reported };
}
