// Calls to the Engage server's JSON API (/api/v1). Every call has a deadline: the send
// path gives the server a fraction of a second, everything else a few seconds.
// Errors come back as EngageError with the server's code and message, or
// "unreachable" / "timeout" when there was no answer.
import "../shared/messages.js";

const { EngageError } = globalThis.EngageMessages;
const DEFAULT_TIMEOUT_MS = 8000;

/** "https://engage.example.com/" or "engage.example.com" -> "https://engage.example.com". */
export function normalizeServerUrl(raw) {
  let text = String(raw || "").trim();
  if (!text) throw new EngageError("bad_server_url", "Enter your Engage server's address.");
  if (!/^https?:\/\//i.test(text)) text = `https://${text}`;
  let url;
  try {
    url = new URL(text);
  } catch {
    url = null;
  }
  // The URL parser percent-encodes what a host cannot hold ("my server"): refuse it.
  if (!url || !/^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/i.test(url.hostname)) {
    throw new EngageError("bad_server_url", `"${raw}" is not a web address.`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new EngageError("bad_server_url", "Enter just the server's address, like https://engage.example.com");
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * `method` `path` on `serverUrl`; returns the parsed JSON (or null for no content).
 * `token` adds the bearer header; `timeoutMs` (or `signal`) bounds the whole call.
 */
export async function apiCall(serverUrl, method, path, { token, body, timeoutMs = DEFAULT_TIMEOUT_MS, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const signals = [AbortSignal.timeout(timeoutMs)];
  if (signal) signals.push(signal);
  let response;
  try {
    response = await fetch(`${serverUrl}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.any(signals),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    if (error?.name === "TimeoutError" || error?.name === "AbortError") {
      throw new EngageError("timeout", `The Engage server at ${serverUrl} did not answer in time.`);
    }
    throw new EngageError("unreachable", `Cannot reach the Engage server at ${serverUrl}.`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = data?.error || {};
    const code = response.status === 401 ? "unauthorized" : error.code || `http_${response.status}`;
    throw new EngageError(code, error.message || `The server answered HTTP ${response.status}.`, {
      status: response.status,
      ...(error.details ? { details: error.details } : {}),
    });
  }
  return data;
}

/** The same call with the signed-in session's server and token. */
export function sessionCall(session, method, path, options = {}) {
  if (!session) throw new EngageError("signed_out", "Sign in to Engage first (extension options).");
  return apiCall(session.serverUrl, method, path, { ...options, token: session.token });
}
