// The one error class of Engage's JavaScript, in the Gmail extension and the Outlook
// add-in alike, with the one set of codes both branch on. A classic script that
// defines `globalThis.EngageError` and nothing else, so content scripts, classic page
// scripts and ES modules (`import "../lib/engage_error.js"`) all load it;
// tools/bundle.py copies it into each build's lib/.
//
//   new EngageError(code, message, details)
//
// `code` is one of EngageError.CODES, a client_py error code (client_py/calls.py
// answers {ok: false, error: {code, message}}), or the server's API error code.
// `status` is the HTTP status of a server answer, 0 when the server did not answer,
// undefined for an error that is not about the server. `details` is whatever else
// the error carries (the server's error details, the status).
(() => {
  "use strict";
  if (globalThis.EngageError) return;

  const CODES = Object.freeze({
    // The server: no answer, or an answer that is an error.
    TIMEOUT: "timeout", // no answer in time (status 0)
    UNREACHABLE: "unreachable", // no answer at all (status 0)
    UNAUTHORIZED: "unauthorized", // 401: the sign-in has ended
    // client_py, through a bridge (client_py/calls.py) or its engine.
    UNKNOWN_FUNCTION: "unknown_function",
    BAD_CALL: "bad_call",
    NOT_HTML: "not_html",
    INVALID_ADDRESS: "invalid_address",
    INVALID_QUERY: "invalid_query",
    PYTHON_FAILED: "python_failed", // Pyodide did not start, or its worker died
    // The clients themselves.
    SIGNED_OUT: "signed_out",
    BAD_SERVER_URL: "bad_server_url",
    LATE: "late", // the send budget ran out
    UNKNOWN_MESSAGE: "unknown_message",
    NO_REPLY: "no_reply",
    INTERNAL: "internal",
  });
  const NO_ANSWER = new Set([CODES.TIMEOUT, CODES.UNREACHABLE]);

  class EngageError extends Error {
    constructor(code, message, details) {
      super(message);
      this.name = "EngageError";
      this.code = code || CODES.INTERNAL;
      this.details = details;
      this.status = details && typeof details.status === "number" ? details.status
        : NO_ANSWER.has(this.code) ? 0 : undefined;
    }

    /** An error about the server (it answered with an error, or did not answer). */
    get fromServer() {
      return typeof this.status === "number";
    }

    /** The error as it crosses a message or engine boundary: {code, message, details?}. */
    toWire() {
      return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
    }

    /** The error of a {code, message, details?} from across a boundary. */
    static fromWire(error) {
      return new EngageError(error?.code || CODES.INTERNAL, error?.message || "Unknown error", error?.details);
    }
  }

  EngageError.CODES = CODES;
  globalThis.EngageError = EngageError;
})();
