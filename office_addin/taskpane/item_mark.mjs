// The selected email's mark, at the top of the task pane: when the user reads one of
// their tracked emails (Sent Items, or a conversation) with the pane open, the pane
// says how far it got, with the words and mark Gmail's lists show (client_py.marks,
// through POST /threads/marks). Outlook lets an add-in draw nothing in its own message
// list (docs/addin.md), so this, and the marks in the panel's list, are what it has.
//
// The email is recognised by the tracking image in its body (its pixel token), so a
// reply from the recipient in the same conversation shows no mark. A pinned pane
// follows the selection (Office.EventType.ItemChanged); the live stream refreshes it.
import { $, Api, state, t } from "./view.mjs";

const GLYPHS = { sent: "\u2713", opened: "\u2713\u2713", machine: "\u2713?" }; // client_py.marks.GLYPHS
let shownFor = null; // the item the box describes (a newer selection wins)

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The message being read, or null (compose mode, an appointment, nothing selected). */
function readItem() {
  const mailbox = globalThis.Office?.context?.mailbox;
  const item = mailbox && mailbox.item;
  if (!item || item.itemType !== "message" || typeof item.itemId !== "string") return null;
  return item;
}

function bodyHtml(item) {
  return new Promise((resolve) => {
    try {
      item.body.getAsync(Office.CoercionType.Html, (result) => {
        resolve(result && result.status === Office.AsyncResultStatus.Succeeded ? String(result.value || "") : "");
      });
    } catch {
      resolve(""); // a plain-text message: no image, no mark
    }
  });
}

/** The pixel tokens of this server in an HTML body (an email may carry one). */
export function pixelTokens(html, publicUrl) {
  const found = new RegExp(`${escapeRegExp(publicUrl)}/p/([A-Za-z0-9_-]{1,64})\\.gif`, "g");
  return [...new Set([...String(html).matchAll(found)].map((m) => m[1]))].slice(0, 50);
}

function hide() {
  $("item-mark").hidden = true;
  $("item-mark").replaceChildren();
}

function draw(mark) {
  const glyph = document.createElement("span");
  glyph.className = `engage-mark engage-mark--${mark.state}`;
  glyph.textContent = GLYPHS[mark.state] || GLYPHS.sent;
  const label = document.createElement("strong");
  label.textContent = `${t("pane.itemMark")}: `;
  const words = document.createElement("span");
  words.className = "item-mark-words";
  words.textContent = mark.title;
  const box = $("item-mark");
  box.dataset.state = mark.state;
  box.dataset.threadId = mark.thread_id || "";
  box.title = mark.title;
  box.replaceChildren(glyph, label, words);
  box.hidden = false;
}

/** Show (or hide) the mark of the message selected now. */
export async function showItemMark() {
  const item = state.inOutlook && state.me ? readItem() : null;
  shownFor = item;
  if (!item) return hide();
  const tokens = pixelTokens(await bodyHtml(item), Api.publicUrl());
  if (shownFor !== item) return undefined;
  if (!tokens.length) return hide();
  let answer;
  try {
    answer = await Api.request("POST", "/threads/marks", {
      pixel_tokens: tokens, lang: Office.context.displayLanguage || "en",
    });
  } catch {
    return undefined; // keep what is shown; the next event or selection asks again
  }
  if (shownFor !== item) return undefined;
  const mark = tokens.map((token) => answer.pixels[token]).find(Boolean);
  return mark ? draw(mark) : hide();
}

/** Follow the selection of a pinned pane. */
export function watchSelection() {
  const mailbox = globalThis.Office?.context?.mailbox;
  if (!state.inOutlook || !mailbox || typeof mailbox.addHandlerAsync !== "function") return;
  mailbox.addHandlerAsync(Office.EventType.ItemChanged, () => showItemMark(), () => {});
}
