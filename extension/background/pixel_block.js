// The sender's own browser never loads their tracking pixels, so it never records an
// "open": a declarativeNetRequest rule blocks <public URL>/p/* in every tab, whatever
// page asks for it (the compose window right after the pixel goes in, a sent email
// shown by a mail client that loads images directly, the pixel URL opened by hand).
//
// Only the pixel path is blocked: the extension's own calls go to /api/*, and tracked
// links (/c/*) keep working for the sender, who is recognised by the server instead.
// Gmail shows received and sent images through Google's proxy, whose URL this rule
// cannot see; that case is self_view.js's.

export const RULE_ID = 1;

/** The rule for `publicUrl`, e.g. "https://t.example.com" -> "|https://t.example.com/p/". */
export function pixelRule(publicUrl) {
  const base = String(publicUrl).replace(/\/+$/, "");
  return {
    id: RULE_ID,
    priority: 1,
    action: { type: "block" },
    condition: {
      urlFilter: `|${base}/p/`,
      resourceTypes: ["image", "main_frame", "sub_frame", "xmlhttprequest", "media", "ping", "other"],
    },
  };
}

export async function blockPixels(publicUrl) {
  await chrome.declarativeNetRequest.updateDynamicRules({
    removeRuleIds: [RULE_ID],
    addRules: publicUrl ? [pixelRule(publicUrl)] : [],
  });
}

export async function unblockPixels() {
  await chrome.declarativeNetRequest.updateDynamicRules({ removeRuleIds: [RULE_ID] });
}
